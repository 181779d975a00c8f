using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Fim.Testing;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Fim.Deploy.Tests;

/// <summary>
/// The chart's side of the managers' autoscaling: the prometheus-adapter external rule for fim_consumer_pending (a
/// valid adapter configuration, evaluated by a real Prometheus through promtool: max() over one consumer's series per
/// pool, so N managers exporting the same value count once, and a lag that rises and falls moves the HPA's desired
/// replicas up and down) and the KEDA path (a ScaledObject validated against KEDA's schema).
/// </summary>
public sealed class AutoscalingTests
{
    private const string Metric = "fim_consumer_pending";

    /// <summary>Autoscaling needs PostgreSQL: the default SQLite store runs exactly one manager.</summary>
    private static readonly string[] Postgres = ["store.backend=postgres", "store.postgres.existingSecret=fim-db"];

    private static string AdapterConfig(params string[] sets)
    {
        var doc = HelmRender.Render([.. Postgres, .. sets]).Single(d => HelmRender.Id(d) is { Kind: "ConfigMap" } id && id.Name.EndsWith("-prometheus-adapter", StringComparison.Ordinal));
        var data = (YamlMappingNode)HelmRender.Parse(doc).Children[new YamlScalarNode("data")];
        return ((YamlScalarNode)data.Children[new YamlScalarNode("config.yaml")]).Value!;
    }

    private static AdapterRule ExternalRule()
    {
        // prometheus-adapter's own config types (pkg/config): unknown keys are refused like its strict YAML decoding.
        var config = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build()
            .Deserialize<AdapterConfigFile>(AdapterConfig());
        Assert.Empty(config.Rules ?? []);
        return Assert.Single(config.ExternalRules!);
    }

    [Fact]
    public void The_adapter_rules_are_a_valid_prometheus_adapter_configuration()
    {
        var rule = ExternalRule();

        Assert.Matches(new Regex(rule.Name!.Matches!), Metric);
        Assert.Equal(Metric, rule.Name.As);
        Assert.Equal("namespace", Assert.Single(rule.Resources!.Overrides!).Value.Resource);
        Assert.Contains("pool!=\"\"", rule.SeriesQuery);
        // prometheus-adapter's metricsQuery is a Go template over these fields only.
        foreach (Match m in Regex.Matches(rule.MetricsQuery!, @"<<\s*\.(\w+)\s*>>"))
        {
            Assert.Contains(m.Groups[1].Value, new[] { "Series", "LabelMatchers", "GroupBy", "GroupBySlice" });
        }

        Assert.StartsWith("max by (", rule.MetricsQuery);
        Assert.DoesNotMatch(@"\bsum\b", rule.MetricsQuery);
        Assert.Contains("<<.LabelMatchers>>", rule.MetricsQuery); // the HPA's pool selector reaches the query
    }

    [Fact]
    public void The_rules_go_where_the_adapter_runs_and_not_in_keda_mode()
    {
        var moved = HelmRender.Render([.. Postgres, "autoscaling.prometheusAdapter.rules.namespace=monitoring"])
            .Single(d => HelmRender.Id(d).Name.EndsWith("-prometheus-adapter", StringComparison.Ordinal));
        Assert.Contains("namespace: monitoring", moved);
        Assert.DoesNotContain(HelmRender.Render([.. Postgres, "managerPool.autoscaling.provider=keda"]), d => HelmRender.Id(d).Name.EndsWith("-prometheus-adapter", StringComparison.Ordinal));
        Assert.DoesNotContain(HelmRender.Render([.. Postgres, "autoscaling.prometheusAdapter.rules.enabled=false"]), d => HelmRender.Id(d).Name.EndsWith("-prometheus-adapter", StringComparison.Ordinal));
    }

    [Fact]
    public void In_KEDA_mode_the_bundled_NATS_monitoring_port_is_open_to_KEDA_only()
    {
        string NatsPolicy(params string[] sets) => HelmRender.Render(["nats.mode=bundled", .. sets])
            .Single(d => HelmRender.Id(d) is { Kind: "NetworkPolicy" } id && id.Name.EndsWith("-nats", StringComparison.Ordinal));
        const string KedaRule = @"kubernetes.io/metadata.name: keda-system\n\s+ports:\n\s+- \{ protocol: TCP, port: 8222 \}";

        Assert.Matches(KedaRule, NatsPolicy([.. Postgres, "managerPool.autoscaling.provider=keda", "autoscaling.keda.namespace=keda-system"]));
        Assert.DoesNotMatch(KedaRule, NatsPolicy("managerPool.autoscaling.provider=keda", "autoscaling.keda.namespace=keda-system")); // SQLite: no autoscaler
        Assert.DoesNotMatch(KedaRule, NatsPolicy("autoscaling.keda.namespace=keda-system"));
        Assert.Contains("provider: keda", HelmRender.Render([.. Postgres, "managerPool.autoscaling.provider=keda"]).Single(d => HelmRender.Id(d).Kind == "FimManagerPool"));
        Assert.DoesNotContain("provider:", HelmRender.Render(Postgres).Single(d => HelmRender.Id(d).Kind == "FimManagerPool"));
    }

    [Fact]
    public void The_manager_PodMonitor_gives_the_series_the_pool_and_consumer_labels_the_rule_selects_on()
    {
        var monitor = HelmRender.Render().Single(d => HelmRender.Id(d) is { Kind: "PodMonitor" } id && id.Name.EndsWith("-manager", StringComparison.Ordinal));
        Assert.Contains("sourceLabels: [__meta_kubernetes_pod_label_fim_io_pool]\n          targetLabel: pool", monitor);
        Assert.Contains("targetLabel: consumer\n          replacement: fim-managers", monitor);
        Assert.Contains("fim.io/pool", File.ReadAllText(Repository.File("src/Fim.Operator/Controllers/Pool/PoolLabels.cs")));
    }

    /// <summary>
    /// The adapter's query as prometheus-adapter builds it for an HPA in namespace fim selecting pool=<paramref name="pool"/>,
    /// evaluated by promtool over simulated managers: three pods of pool-a exporting the same consumer lag (one joins
    /// late), which rises and falls, and two pods of pool-b with a small steady lag.
    /// </summary>
    [Fact]
    public async Task A_real_Prometheus_evaluates_the_adapter_query_once_per_consumer_and_the_desired_replicas_follow_the_lag()
    {
        Assert.True(Repo.OnPath("promtool"), "promtool is not installed (scripts/install-deps.sh installs the Debian package prometheus)");
        var rule = ExternalRule();
        var pool = HelmRender.Parse(HelmRender.Render(Postgres).Single(d => HelmRender.Id(d).Kind == "FimManagerPool"));
        var spec = (YamlMappingNode)pool.Children[new YamlScalarNode("spec")];
        var target = int.Parse(HelmRender.Str((YamlMappingNode)spec.Children[new YamlScalarNode("autoscaling")], "pendingPerReplica"), CultureInfo.InvariantCulture);
        var replicas = (YamlMappingNode)spec.Children[new YamlScalarNode("replicas")];
        var (min, max) = (int.Parse(HelmRender.Str(replicas, "min"), CultureInfo.InvariantCulture), int.Parse(HelmRender.Str(replicas, "max"), CultureInfo.InvariantCulture));

        long[] lagA = [0, 500, 2500, 5000, 9000, 12000, 4000, 800, 0];
        long[] lagB = [100, 100, 100, 100, 100, 100, 100, 100, 100];
        string Query(string p) => rule.MetricsQuery!
            .Replace("<<.Series>>", Metric, StringComparison.Ordinal)
            .Replace("<<.LabelMatchers>>", $"namespace=\"fim\",pool=\"{p}\"", StringComparison.Ordinal);
        // What the HPA does with an External AverageValue target: ceil(value / target), bounded by min and max replicas.
        int Desired(long value) => Math.Clamp((int)Math.Ceiling(value / (double)target), min, max);

        var rules = new StringBuilder("groups:\n  - name: adapter\n    rules:\n");
        foreach (var p in new[] { "pool-a", "pool-b" })
        {
            var id = p.Replace('-', '_');
            rules.Append($"      - record: adapter:{Metric}:{id}\n        expr: '{Query(p)}'\n");
            rules.Append($"      - record: hpa:desired_replicas:{id}\n        expr: 'clamp(ceil(({Query(p)}) / {target}), {min}, {max})'\n");
        }

        string Series(string p, string pod, string values) =>
            $"      - series: '{Metric}{{namespace=\"fim\",pool=\"{p}\",consumer=\"fim-managers\",pod=\"{pod}\",job=\"fim-manager\"}}'\n        values: '{values}'\n";
        var test = new StringBuilder("rule_files: [rules.yaml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n");
        test.Append(Series("pool-a", "a-1", string.Join(' ', lagA)));
        test.Append(Series("pool-a", "a-2", string.Join(' ', lagA)));
        test.Append(Series("pool-a", "a-3", string.Join(' ', lagA.Select((v, i) => i < 4 ? "_" : v.ToString(CultureInfo.InvariantCulture))))); // scaled up at 4m
        test.Append(Series("pool-b", "b-1", string.Join(' ', lagB)));
        test.Append(Series("pool-b", "b-2", string.Join(' ', lagB)));
        test.Append("    promql_expr_test:\n");
        var desiredA = new List<int>();
        for (var minute = 0; minute < lagA.Length; minute++)
        {
            desiredA.Add(Desired(lagA[minute]));
            foreach (var (p, lag) in new[] { ("pool-a", lagA[minute]), ("pool-b", lagB[minute]) })
            {
                var id = p.Replace('-', '_');
                var labels = $"{{consumer=\"fim-managers\",namespace=\"fim\",pool=\"{p}\"}}";
                test.Append($"      - expr: adapter:{Metric}:{id}\n        eval_time: {minute}m\n        exp_samples:\n          - labels: 'adapter:{Metric}:{id}{labels}'\n            value: {lag}\n");
                test.Append($"      - expr: hpa:desired_replicas:{id}\n        eval_time: {minute}m\n        exp_samples:\n          - labels: 'hpa:desired_replicas:{id}{labels}'\n            value: {Desired(lag)}\n");
            }
        }

        // The scenario really scales: up well past the minimum, then back down to it.
        Assert.Equal(min, desiredA[0]);
        Assert.True(desiredA.Max() >= min + 5, string.Join(",", desiredA));
        Assert.Equal(min, desiredA[^1]);

        var dir = Directory.CreateTempSubdirectory("fim-adapter-promtool-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "rules.yaml"), rules.ToString());
            await File.WriteAllTextAsync(Path.Combine(dir, "test.yaml"), test.ToString());
            var check = await ChildProcess.RunAsync("promtool", ["check", "rules", "rules.yaml"], workingDirectory: dir);
            Assert.True(check.ExitCode == 0, check.ToString());
            var r = await ChildProcess.RunAsync("promtool", ["test", "rules", "test.yaml"], workingDirectory: dir);
            Assert.True(r.ExitCode == 0, r + "\n" + rules + "\n" + test);
            Assert.Contains("SUCCESS", r.Output);

            // The same series under sum() - the usual adapter rule - would read pool-a's lag three times over.
            await File.WriteAllTextAsync(Path.Combine(dir, "rules.yaml"), rules.ToString().Replace("max by (", "sum by (", StringComparison.Ordinal));
            var summed = await ChildProcess.RunAsync("promtool", ["test", "rules", "test.yaml"], workingDirectory: dir);
            Assert.NotEqual(0, summed.ExitCode);
            Assert.Contains("got: {__name__=\"adapter:fim_consumer_pending:pool_a\", consumer=\"fim-managers\", namespace=\"fim\", pool=\"pool-a\"} 2.7E+04", summed.Output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_KEDA_ScaledObject_is_valid_against_KEDAs_schema_and_an_invalid_one_is_refused_with_its_path()
    {
        var good = File.ReadAllText(Path.Combine(Repo.Root, "tests", "Fim.Deploy.Tests", "Fixtures", "keda-scaledobject.yaml"));
        var bad = good.Replace("  minReplicaCount: 2", "  minReplicaCount: two\n  maxReplicas: 10", StringComparison.Ordinal);

        var results = ThirdPartySchemas.ValidateModels([good, bad]);

        Assert.Empty(results[0]);
        Assert.Contains("spec.minReplicaCount: must be of type integer", results[1]);
        Assert.Contains("spec.maxReplicas: unknown field", results[1]);
    }

    [Fact]
    public async Task The_API_double_serves_ScaledObjects_and_refuses_an_invalid_one_with_its_path()
    {
        await using var api = new Fim.Testing.KubeApi.KubeApiServer(new Fim.Testing.KubeApi.KubeApiServerOptions { SchemaValidation = Fim.Testing.KubeApi.SchemaValidation.Required });
        await api.StartAsync();
        using var kubectl = Kubectl.For(api.WriteKubeconfig);
        await kubectl.OkAsync("create", "namespace", HelmRender.Namespace);
        await kubectl.OkAsync("apply", "-f", Path.Combine(Repo.Root, "tests", "Fim.Deploy.Tests", "Fixtures", "keda-crds.stand-in.yaml"));
        await kubectl.OkAsync("wait", "--for=condition=Established", "crd/scaledobjects.keda.sh", "--timeout=2m");
        var good = File.ReadAllText(Path.Combine(Repo.Root, "tests", "Fim.Deploy.Tests", "Fixtures", "keda-scaledobject.yaml"));

        var refused = await kubectl.RunAsync("apply", "-f", kubectl.WriteFile("bad.yaml", good.Replace("  minReplicaCount: 2", "  minReplicaCount: two", StringComparison.Ordinal)));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("spec.minReplicaCount", refused.Stderr);

        await kubectl.OkAsync("apply", "-f", kubectl.WriteFile("good.yaml", good));
        Assert.Equal("fim-managers", await kubectl.OkAsync("-n", HelmRender.Namespace, "get", "scaledobject", "fim-managers", "-o", "jsonpath={.spec.triggers[0].metadata.consumer}"));
    }

    private sealed class AdapterConfigFile
    {
        public List<AdapterRule>? Rules { get; set; }

        public List<AdapterRule>? ExternalRules { get; set; }

        public object? ResourceRules { get; set; }
    }

    private sealed class AdapterRule
    {
        public string? SeriesQuery { get; set; }

        public List<Dictionary<string, string>>? SeriesFilters { get; set; }

        public AdapterResources? Resources { get; set; }

        public AdapterName? Name { get; set; }

        public string? MetricsQuery { get; set; }
    }

    private sealed class AdapterResources
    {
        public string? Template { get; set; }

        public Dictionary<string, AdapterGroupResource>? Overrides { get; set; }

        public string? Namespaced { get; set; }
    }

    private sealed class AdapterGroupResource
    {
        public string? Group { get; set; }

        public string? Resource { get; set; }
    }

    private sealed class AdapterName
    {
        public string? Matches { get; set; }

        public string? As { get; set; }
    }
}
