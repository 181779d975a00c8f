using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Fim.Deploy.Tests;

public sealed class MonitoringAndBackupTests
{
    // Metric names the parts export (manager, operator, agent) plus Prometheus' own `up`; the heartbeat gauge is the
    // one the manager still has to add (docs/install.md, open contracts).
    private static readonly HashSet<string> KnownMetrics =
    [
        "up", "fim_events_consumed_total", "fim_alerts_total", "fim_event_processing_seconds_bucket", "fim_event_redeliveries_total",
        "fim_dead_letters_total", "fim_consumer_pending", "fim_operator_reconcile_errors_total", "fim_operator_leader",
        "fim_agent_changes_total", "fim_agent_last_heartbeat_timestamp_seconds",
    ];

    [Fact]
    public void Grafana_dashboard_is_a_labelled_ConfigMap_covering_the_fleet()
    {
        var docs = HelmRender.Render();
        var cm = (V1ConfigMap)StrictValidation.ParseTyped(docs.Single(d => HelmRender.Id(d) is { Kind: "ConfigMap" } id && id.Name.EndsWith("-dashboard", StringComparison.Ordinal)));
        Assert.Equal("1", cm.Metadata.Labels["grafana_dashboard"]);
        var dashboard = JsonNode.Parse(cm.Data["fim-fleet.json"])!.AsObject();
        Assert.Equal("fim-fleet", (string?)dashboard["uid"]);
        var panels = dashboard["panels"]!.AsArray().Select(p => p!.AsObject()).ToList();
        var titles = panels.Select(p => (string)p["title"]!).ToList();
        foreach (var expected in new[] { "Managers up", "Silent agents", "Events consumed / s", "Consumer pending (lag)", "Alerts / s by level" })
        {
            Assert.Contains(expected, titles);
        }
        var exprs = panels.SelectMany(p => p["targets"]!.AsArray().Select(t => (string)t!["expr"]!)).ToList();
        var functions = new HashSet<string> { "sum", "rate", "max", "count", "by", "or", "vector", "time", "histogram_quantile", "le", "level", "reason", "controller", "kind", "job" };
        foreach (var expr in exprs)
        {
            var withoutStrings = Regex.Replace(Regex.Replace(expr, "\"[^\"]*\"", ""), @"\[[^\]]*\]", "");
            foreach (Match m in Regex.Matches(withoutStrings, @"[a-z_][a-z0-9_]*"))
            {
                Assert.True(KnownMetrics.Contains(m.Value) || functions.Contains(m.Value), $"dashboard query '{expr}' uses unknown name '{m.Value}'");
            }
        }
        Assert.Contains(exprs, e => e.Contains("sum by (level) (rate(fim_alerts_total"));
    }

    [Fact]
    public void Velero_schedule_covers_the_namespace_every_six_hours()
    {
        var doc = HelmRender.Parse(File.ReadAllText(Path.Combine(Repo.Root, "velero", "schedule.yaml")));
        var json = StrictValidation.ToJson(doc)!;
        var spec = json["spec"]!;
        Assert.Equal("0 */6 * * *", (string?)spec["schedule"]);
        var template = spec["template"]!;
        Assert.Equal("720h0m0s", (string?)template["ttl"]);
        Assert.Equal(["fim"], template["includedNamespaces"]!.AsArray().Select(n => (string)n!));
        var resources = template["includedResources"]!.AsArray().Select(n => (string)n!).ToList();
        foreach (var r in new[] { "fimpolicies.fim.io", "fimmanagerpools.fim.io", "secrets", "persistentvolumeclaims", "persistentvolumes", "pods" })
        {
            Assert.Contains(r, resources);
        }
        Assert.True((bool)template["snapshotVolumes"]!);

        // The bundled NATS pods carry the file-system backup annotation for their JetStream volume.
        var sts = (V1StatefulSet)StrictValidation.ParseTyped(HelmRender.Render("nats.mode=bundled").Single(d => HelmRender.Id(d).Kind == "StatefulSet"));
        var volume = sts.Spec.Template.Metadata.Annotations["backup.velero.io/backup-volumes"];
        Assert.Equal(volume, Assert.Single(sts.Spec.VolumeClaimTemplates).Metadata.Name);
    }
}
