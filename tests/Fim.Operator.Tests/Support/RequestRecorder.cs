using System.Collections.Concurrent;

namespace Fim.Operator.Tests.Support;

/// <summary>Records the RBAC (verb, group, resource) of every request a client sends, like the apiserver's RequestInfo.</summary>
internal sealed class RequestRecorder : DelegatingHandler
{
    public ConcurrentDictionary<(string Verb, string Group, string Resource), int> Seen { get; } = new();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Seen.AddOrUpdate(Classify(request.Method.Method, request.RequestUri!), 1, (_, n) => n + 1);
        return base.SendAsync(request, cancellationToken);
    }

    public static (string Verb, string Group, string Resource) Classify(string method, Uri uri)
    {
        var parts = uri.AbsolutePath.Trim('/').Split('/');
        string group;
        int i;
        if (parts[0] == "api")
        {
            group = "";
            i = 2;
        }
        else
        {
            group = parts[1];
            i = 3;
        }

        if (i < parts.Length && parts[i] == "namespaces" && i + 2 < parts.Length)
        {
            i += 2;
        }

        var resource = parts[i];
        var name = i + 1 < parts.Length ? parts[i + 1] : null;
        if (i + 2 < parts.Length)
        {
            resource += "/" + parts[i + 2];
        }

        var watch = uri.Query.Contains("watch=true", StringComparison.OrdinalIgnoreCase);
        var verb = method switch
        {
            "GET" when watch => "watch",
            "GET" => name is null ? "list" : "get",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => name is null ? "deletecollection" : "delete",
            _ => method.ToLowerInvariant(),
        };
        return (verb, group, resource);
    }
}
