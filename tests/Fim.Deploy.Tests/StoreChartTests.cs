using System.Text.Json.Nodes;
using Fim.Testing;

namespace Fim.Deploy.Tests;

/// <summary>
/// The chart's store and fleet values rendered into the FimManagerPool (whose schema ChartTests' matrix checks against
/// crds/), the managers' egress to PostgreSQL, and the combinations that cannot work refused at render time.
/// </summary>
public sealed class StoreChartTests
{
    private const string CnpgApi = "postgresql.cnpg.io/v1/Cluster";

    private static List<string> Render(string[] sets, bool cnpg = false)
    {
        var r = Template(sets, cnpg);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return HelmRender.SplitDocuments(r.Stdout);
    }

    private static ProcessResult Template(string[] sets, bool cnpg = false)
    {
        var args = new List<string> { "template", "rel", Repo.Chart, "--namespace", HelmRender.Namespace };
        if (cnpg)
        {
            args.AddRange(["--api-versions", CnpgApi]);
        }
        foreach (var s in sets)
        {
            args.AddRange(["--set", s]);
        }
        return KubeTools.Helm(args);
    }

    private static JsonObject PoolSpec(List<string> docs) =>
        (JsonObject)Json(docs.Single(d => HelmRender.Id(d).Kind == "FimManagerPool"))["spec"]!;

    private static JsonObject Json(string doc) => (JsonObject)StrictValidation.ToJson(HelmRender.Parse(doc))!;

    private static string ManagerPolicy(List<string> docs) =>
        docs.Single(d => HelmRender.Id(d) is { Kind: "NetworkPolicy", Name: "rel-fim-manager" });

    [Fact]
    public void By_default_the_pool_is_SQLite_with_one_replica_and_no_autoscaler()
    {
        var spec = PoolSpec(HelmRender.Render());
        Assert.Equal("""{"retentionDays":400,"sqlite":{"size":"10Gi"}}""", spec["store"]!.ToJsonString());
        Assert.Equal("""{"min":1,"max":1}""", spec["replicas"]!.ToJsonString());
        Assert.False(spec.ContainsKey("fleet"));
        Assert.False(spec.ContainsKey("autoscaling"));
    }

    [Fact]
    public void Sqlite_renders_a_claim_one_replica_and_no_autoscaler()
    {
        var spec = PoolSpec(Render(["store.backend=sqlite", "store.sqlite.persistence.size=20Gi", "store.sqlite.persistence.storageClass=gp3", "store.retentionDays=365", "managerPool.replicas.max=7"]));
        Assert.Equal("""{"retentionDays":365,"sqlite":{"size":"20Gi","storageClassName":"gp3"}}""", spec["store"]!.ToJsonString());
        Assert.Equal("""{"min":1,"max":1}""", spec["replicas"]!.ToJsonString());
        Assert.False(spec.ContainsKey("autoscaling"));

        var existing = PoolSpec(Render(["store.backend=sqlite", "store.sqlite.persistence.existingClaim=fim-alerts"]));
        Assert.Equal("""{"existingClaim":"fim-alerts"}""", existing["store"]!["sqlite"]!.ToJsonString());
    }

    [Fact]
    public void Postgres_from_a_secret_key_with_tls_and_the_egress_to_its_network()
    {
        var docs = Render(["store.backend=postgres", "store.postgres.existingSecret=fim-db", "store.postgres.tls.sslMode=verify-full", "store.postgres.tls.caConfigMap=corp-ca", "store.postgres.cidrs={10.1.0.0/16}", "store.postgres.port=6432"]);
        var spec = PoolSpec(docs);
        Assert.Equal(
            """{"connectionSecretRef":{"name":"fim-db","key":"connection"},"tls":{"sslMode":"verify-full","caConfigMapRef":{"name":"corp-ca","key":"ca.crt"}}}""",
            spec["store"]!["postgres"]!.ToJsonString());
        Assert.Equal("""{"min":2,"max":10}""", spec["replicas"]!.ToJsonString()); // any number of managers index PostgreSQL
        Assert.True(spec.ContainsKey("autoscaling"));
        var policy = ManagerPolicy(docs);
        Assert.Contains("- { protocol: TCP, port: 6432 }", policy, StringComparison.Ordinal);
        Assert.Contains("cidr: 10.1.0.0/16", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("6432", ManagerPolicy(HelmRender.Render()), StringComparison.Ordinal);
    }

    [Fact]
    public void A_CloudNativePG_cluster_is_taken_only_where_its_CRD_is_served()
    {
        var sets = new[] { "store.backend=postgres", "store.postgres.cnpgCluster=fim-db" };
        var refused = Template(sets);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("store.postgres.cnpgCluster needs CloudNativePG", refused.Stderr, StringComparison.Ordinal);

        var docs = Render(sets, cnpg: true);
        Assert.Equal("""{"cnpgCluster":"fim-db"}""", PoolSpec(docs)["store"]!["postgres"]!.ToJsonString());
        Assert.Contains("cnpg.io/cluster: fim-db", ManagerPolicy(docs), StringComparison.Ordinal);
    }

    [Fact]
    public void Fleet_durations_are_rendered_into_the_pool()
    {
        var spec = PoolSpec(Render(["managerPool.fleet.disconnectedAfter=10m", "managerPool.fleet.pruneAfter=7d"]));
        Assert.Equal("""{"disconnectedAfter":"10m","pruneAfter":"7d"}""", spec["fleet"]!.ToJsonString());
        var bad = Template(["managerPool.fleet.pruneAfter=7 days"]);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("/managerPool/fleet/pruneAfter", bad.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("store.backend=postgres", "store.backend=postgres needs store.postgres.existingSecret")]
    [InlineData("store.backend=postgres,store.postgres.existingSecret=a,store.postgres.cnpgCluster=b", "set either existingSecret or cnpgCluster, not both")]
    [InlineData("store.backend=postgres,store.postgres.existingSecret=a,store.postgres.tls.sslMode=verify-ca", "store.postgres.tls.sslMode=verify-ca needs store.postgres.tls.caSecret or caConfigMap")]
    [InlineData("store.backend=postgres,store.postgres.existingSecret=a,store.postgres.tls.caSecret=x,store.postgres.tls.caConfigMap=y", "set either caSecret or caConfigMap, not both")]
    [InlineData("store.backend=mysql", "/store/backend")]
    public void Store_settings_that_cannot_work_fail_the_render_saying_what_to_change(string sets, string expected)
    {
        var r = Template(sets.Split(','), cnpg: true);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
    }
}
