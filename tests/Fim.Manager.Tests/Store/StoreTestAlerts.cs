using Fim.Contracts;
using Fim.Manager.Store;

namespace Fim.Manager.Tests.Store;

/// <summary>Alerts for store tests, with the wire JSON the indexer would store.</summary>
internal static class StoreTestAlerts
{
    private static long _seq;

    public static Alert Alert(string agent, string path, DateTimeOffset at, int level = 7, string rule = "550", string kind = "modified",
        string? exe = null, string? user = null, string? ns = null, string? pod = null, string? host = null, string? id = null,
        Dictionary<string, string>? labels = null, PackageInfo? package = null)
    {
        var alert = new Alert
        {
            EventId = id ?? Guid.NewGuid().ToString("N"),
            AgentId = agent,
            Host = host ?? agent + ".example",
            Policy = "default/etc",
            Path = path,
            Kind = kind,
            Source = "realtime",
            ObservedAt = at,
            Rule = new RuleRef { Id = rule, Level = level, Description = "test" },
            Level = level,
            Labels = labels,
            Package = package,
        };
        alert.AlertId = $"{alert.EventId}/{rule}";
        if (exe is not null || user is not null || ns is not null)
        {
            alert.Actor = new Actor
            {
                Executable = exe,
                User = user,
                Workload = ns is null ? null : new Workload { Scope = Workload.PodScope, PodNamespace = ns, PodName = pod },
            };
        }
        return alert;
    }

    public static StoredAlert Stored(Alert a) =>
        StoredAlert.From(a, ContractJson.ToUtf8(a), (ulong)Interlocked.Increment(ref _seq), DateTimeOffset.UtcNow);

    public static StoredAlert Stored(string agent, string path, DateTimeOffset at, int level = 7, string rule = "550", string kind = "modified",
        string? exe = null, string? user = null, string? ns = null, string? pod = null, string? host = null) =>
        Stored(Alert(agent, path, at, level, rule, kind, exe, user, ns, pod, host));

    public static string Agent(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";
}
