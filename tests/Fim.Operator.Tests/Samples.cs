using Fim.Operator.Api;
using k8s.Models;

namespace Fim.Operator.Tests;

internal static class Samples
{
    public const string StoreSecret = "managers-db";
    public const string StoreSecretKey = "connection";

    public static FimPolicy Policy(string name, string path = "/etc", string ns = "default", Dictionary<string, string>? matchLabels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new FimPolicySpec
        {
            Selector = matchLabels is null ? null : new AgentSelector { MatchLabels = matchLabels },
            Paths = [new FimPathRule { Path = path, Exclude = ["*.swp"] }],
            Tags = ["pci_dss:11.5"],
        },
    };

    public static FimManagerPool Pool(string name = "managers", string ns = "default") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new FimManagerPoolSpec
        {
            Image = "ghcr.io/fimoperator/fim-manager:0.1.0",
            Nats = new PoolNats { Url = "nats://nats:4222", SecretRef = new SecretReference { Name = "nats-auth" } },
            Replicas = new PoolReplicas { Min = 2, Max = 6 },
            Autoscaling = new PoolAutoscaling { PendingPerReplica = 5000, CpuUtilization = 70 },
            Resources = new PoolResources { Requests = new() { ["cpu"] = new ResourceQuantity("250m"), ["memory"] = new ResourceQuantity("256Mi") } },
            Service = new PoolService { Scheme = "internal" },
            // PostgreSQL, which autoscaling needs (without a store the pool is SQLite with one manager); the harness creates the Secret.
            Store = new PoolStore { Postgres = new PoolPostgresStore { ConnectionSecretRef = new SecretKeyReference { Name = StoreSecret, Key = StoreSecretKey } } },
        },
    };

    /// <summary>The pool as the API would return it: uid and generation set.</summary>
    public static FimManagerPool Stored(FimManagerPool pool, string uid = "uid-1", long generation = 1)
    {
        pool.Metadata.Uid = uid;
        pool.Metadata.Generation = generation;
        return pool;
    }
}
