using System.Collections.Frozen;
using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Fim.Manager.Audit;

/// <summary>
/// Which API methods mutate, decided in one place for every service in protos/fim/v1: a method with a REST mirror
/// mutates unless its verb is GET; a gRPC-only method mutates unless its name starts with a read verb (List, Get,
/// Count, Watch, Query, Verify). So a new mutating method is audited without anyone remembering to.
/// </summary>
public sealed class AuditedMethods
{
    private static readonly string[] ReadVerbs = ["List", "Get", "Count", "Watch", "Query", "Verify"];

    /// <summary>Request fields that name what a call acts on, in the order they are looked for.</summary>
    private static readonly string[] TargetFields = ["agent_id", "token_id", "window_id", "alert_ids", "name"];

    private readonly FrozenDictionary<string, MethodDescriptor> _methods;

    public AuditedMethods()
        : this(typeof(Fim.Api.V1.FimManager).Assembly)
    {
    }

    public AuditedMethods(Assembly contracts)
    {
        var methods = new Dictionary<string, MethodDescriptor>(StringComparer.Ordinal);
        foreach (var type in contracts.GetTypes().Where(t => t.Namespace == "Fim.Api.V1" && t.Name.EndsWith("Reflection", StringComparison.Ordinal)))
        {
            if (type.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) is FileDescriptor file)
            {
                foreach (var method in file.Services.SelectMany(s => s.Methods))
                {
                    methods[$"/{method.Service.FullName}/{method.Name}"] = method;
                }
            }
        }
        _methods = methods.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every API method, by its gRPC path (/fim.v1.FimManager/ReviewAlerts).</summary>
    public IEnumerable<MethodDescriptor> All => _methods.Values;

    public static string Action(MethodDescriptor method) => $"{method.Service.FullName}/{method.Name}";

    /// <summary>The method at the gRPC path <paramref name="path"/>, when it is one of ours and mutates.</summary>
    public MethodDescriptor? Mutating(string path) => _methods.TryGetValue(path, out var method) && IsMutating(method) ? method : null;

    public static bool IsMutating(MethodDescriptor method)
    {
        var http = method.GetOptions()?.GetExtension(Google.Api.AnnotationsExtensions.Http);
        if (http is not null && http.PatternCase != Google.Api.HttpRule.PatternOneofCase.None)
        {
            return http.PatternCase != Google.Api.HttpRule.PatternOneofCase.Get;
        }
        return !ReadVerbs.Any(v => method.Name.StartsWith(v, StringComparison.Ordinal));
    }

    /// <summary>The full action names whose method is called <paramref name="name"/> (ReviewAlerts), or the action itself when it names the service.</summary>
    public IReadOnlyList<string> Actions(string name) =>
        name.Contains('/', StringComparison.Ordinal)
            ? [name.TrimStart('/')]
            : [.. _methods.Values.Where(m => m.Name == name).Select(Action)];

    /// <summary>What the call acts on, from the request (an agent, token, window, the reviewed alert ids, a name), or "".</summary>
    public static string Target(IMessage request)
    {
        foreach (var name in TargetFields)
        {
            if (request.Descriptor.FindFieldByName(name) is not { } field)
            {
                continue;
            }
            var value = field.Accessor.GetValue(request);
            if (value is string { Length: > 0 } text)
            {
                return text;
            }
            if (value is System.Collections.IList { Count: > 0 } list)
            {
                var shown = list.Cast<object>().Take(10).Select(v => v.ToString());
                return string.Join(",", shown) + (list.Count > 10 ? $",... ({list.Count})" : "");
            }
        }
        return "";
    }
}
