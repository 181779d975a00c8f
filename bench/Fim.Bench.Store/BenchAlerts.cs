using Fim.Contracts;
using Fim.Manager.Store;

/// <summary>The generated alerts every part of the benchmark stores and queries.</summary>
internal static class BenchAlerts
{
    public const int Agents = 1000;

    public static readonly string[] Paths = [.. Enumerable.Range(0, 2000).Select(i => i switch
    {
        < 20 => $"/etc/ssh/ssh_host_{i}_key",
        < 200 => $"/etc/conf.d/file-{i}.conf",
        < 1000 => $"/usr/bin/tool-{i}",
        _ => $"/var/lib/app/data-{i}.db",
    })];

    // 1,000 agents; paths: 1% under /etc/ssh/, 9% /etc/conf.d, 40% /usr/bin, 50% /var/lib/app; levels 3 (60%), 5 (25%),
    // 7 (12%), 10 (2%), 12 (1%); a third of the agents are Kubernetes nodes whose alerts carry a namespace and pod.
    public static List<StoredAlert> Generate(int count, int seed, int spreadDays, DateTimeOffset now)
    {
        var r = new Random(seed);
        var list = new List<StoredAlert>(count);
        string[] namespaces = ["payments", "web", "batch", "kube-system"];
        for (var i = 0; i < count; i++)
        {
            var agentNo = r.Next(Agents);
            var agent = $"agent-{agentNo:D4}";
            var level = r.Next(100) switch { < 60 => 3, < 85 => 5, < 97 => 7, < 99 => 10, _ => 12 };
            var e = new FileEvent
            {
                EventId = $"{agent}:{seed}:{i}",
                AgentId = agent,
                Host = agent + ".nodes.example",
                Policy = "prod/baseline",
                Path = Paths[r.Next(Paths.Length)],
                Kind = "modified",
                Changed = ["sha256", "mtime", "size"],
                Source = "realtime",
                ObservedAt = now.AddSeconds(-r.NextDouble() * spreadDays * 86400),
            };
            var alert = Alert.For(e, new RuleRef { Id = level >= 10 ? "553" : "550", Level = level, Description = "Integrity checksum changed." }, level,
                ["pci_dss:11.5", "nist_800_53:SI.7"], ["fim"]);
            if (agentNo % 3 == 0)
            {
                alert.Actor = new Actor
                {
                    Executable = "/usr/bin/python3",
                    User = "app",
                    Workload = new Workload { Scope = Workload.PodScope, PodNamespace = namespaces[agentNo % 4], PodName = $"app-{agentNo % 17}" },
                };
            }
            list.Add(StoredAlert.From(alert, ContractJson.ToUtf8(alert), (ulong)i + 1, alert.ObservedAt));
        }
        return list;
    }
}
