using Fim.Testing;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fim.Operator.Api;
using Fim.Operator.Controllers.Pool;
using Fim.Operator.Runtime;
using Fim.Operator.Tests.Support;
using k8s;
using k8s.Models;
using Xunit.Abstractions;

namespace Fim.Operator.Tests;

/// <summary>The operator against the API double and a real nats-server: acceptance point 1 of the operator issue.</summary>
[Collection(Serial.Name)]
public sealed class EndToEndTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> Pci = new() { ["fim.io/profile"] = "pci" };

    private static async Task<V1Deployment?> DeploymentAsync(OperatorHarness h, string name = "managers") =>
        await Quietly(() => h.Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default"));

    private static async Task<T?> Quietly<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Every request the operator made is allowed by OperatorPermissions (the RBAC the chart grants).</summary>
    private static void AssertWithinPermissions(OperatorHarness h)
    {
        var denied = h.OperatorRequests.Seen.Keys.Where(k => !OperatorPermissions.Allows(k.Verb, k.Group, k.Resource)).ToList();
        Assert.True(denied.Count == 0, "requests outside OperatorPermissions: " + string.Join(", ", denied));
    }

    [Fact]
    public async Task Pool_creates_owned_children_updates_them_on_edit_leaves_replicas_to_the_HPA_reports_status_and_cascades_on_delete()
    {
        await using var h = await OperatorHarness.StartAsync();
        await using var kv = await NatsKv.StartAsync();
        h.StartOperator(kv.PolicyStore, kv.Agents, loggers: new TestLoggers(output));
        var pool = await h.Pools.CreateAsync(Samples.Pool());

        await Eventually.TrueAsync(async () => await Quietly(() => h.Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("managers", "default")) is not null, "all children");
        var d = (await DeploymentAsync(h))!;
        Assert.Equal(pool.Metadata.Uid, d.Metadata.OwnerReferences.Single().Uid);
        Assert.Equal("ghcr.io/fimoperator/fim-manager:0.1.0", d.Spec.Template.Spec.Containers[0].Image);
        var svc = await h.Client.CoreV1.ReadNamespacedServiceAsync("managers", "default");
        Assert.Equal("LoadBalancer", svc.Spec.Type);
        Assert.Equal("ip", svc.Metadata.Annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"]);
        var hpa = await h.Client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync("managers", "default");
        Assert.Equal((2, 6), (hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas));
        Assert.NotNull(await h.Client.CoreV1.ReadNamespacedServiceAccountAsync("managers", "default"));

        // The HPA scales the Deployment; then the user edits the pool: the operator updates what it owns and keeps replicas.
        d.Spec.Replicas = 5;
        await h.Client.AppsV1.ReplaceNamespacedDeploymentAsync(d, "managers", "default");
        await h.Pools.UpdateAsync<FimManagerPool>("managers", edited =>
        {
            edited.Spec.Image = "ghcr.io/fimoperator/fim-manager:0.2.0";
            edited.Spec.Replicas!.Max = 8;
        });
        await Eventually.TrueAsync(async () => (await DeploymentAsync(h))!.Spec.Template.Spec.Containers[0].Image.EndsWith("0.2.0"), "the new image");
        await Eventually.TrueAsync(async () => (await h.Client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync("managers", "default")).Spec.MaxReplicas == 8, "the new max");
        Assert.Equal(5, (await DeploymentAsync(h))!.Spec.Replicas);

        // Status follows the HPA (desired, pending) and the Deployment (ready).
        hpa = await h.Client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync("managers", "default");
        hpa.Status = new V2HorizontalPodAutoscalerStatus
        {
            CurrentReplicas = 5,
            DesiredReplicas = 5,
            CurrentMetrics = [new V2MetricStatus { Type = "External", External = new V2ExternalMetricStatus { Metric = new V2MetricIdentifier { Name = "fim_consumer_pending" }, Current = new V2MetricValueStatus { AverageValue = new ResourceQuantity("200") } } }],
        };
        await h.Client.AutoscalingV2.ReplaceNamespacedHorizontalPodAutoscalerStatusAsync(hpa, "managers", "default");
        d = (await DeploymentAsync(h))!;
        d.Status = new V1DeploymentStatus { ObservedGeneration = d.Metadata.Generation, Replicas = 5, UpdatedReplicas = 5, ReadyReplicas = 5, AvailableReplicas = 5 };
        await h.Client.AppsV1.ReplaceNamespacedDeploymentStatusAsync(d, "managers", "default");
        await Eventually.TrueAsync(async () =>
        {
            var s = (await h.Pools.GetAsync<FimManagerPool>("managers"))!.Status;
            return s is { ReadyReplicas: 5, DesiredReplicas: 5, PendingEvents: 1000 } && Conditions.IsTrue(s.Conditions, "Available") && !Conditions.IsTrue(s.Conditions, "Progressing");
        }, "pool status from the Deployment and HPA");
        Assert.Equal(2, (await h.Pools.GetAsync<FimManagerPool>("managers"))!.Status!.ObservedGeneration);

        // A child deleted or edited by hand is put back at once (children are watched).
        var oldService = (await h.Client.CoreV1.ReadNamespacedServiceAsync("managers", "default")).Metadata.Uid;
        using (var services = new GenericClient(h.Client, "", "v1", "services", disposeClient: false))
        {
            await services.DeleteNamespacedAsync<V1Status>("default", "managers"); // the double answers a Service delete with a Status
        }

        await Eventually.TrueAsync(async () => (await Quietly(() => h.Client.CoreV1.ReadNamespacedServiceAsync("managers", "default")))?.Metadata.Uid is { } uid && uid != oldService, "the Service re-created");
        var pdb = await h.Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("managers", "default");
        pdb.Spec.MaxUnavailable = 3;
        await h.Client.PolicyV1.ReplaceNamespacedPodDisruptionBudgetAsync(pdb, "managers", "default");
        await Eventually.TrueAsync(async () => (await h.Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("managers", "default")).Spec.MaxUnavailable.Value == "1", "the PDB put back");

        await h.Pools.DeleteAsync("managers");
        Assert.Null(await DeploymentAsync(h));
        Assert.Null(await Quietly(() => h.Client.CoreV1.ReadNamespacedServiceAsync("managers", "default")));
        Assert.Null(await Quietly(() => h.Client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync("managers", "default")));
        Assert.Null(await Quietly(() => h.Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("managers", "default")));
        Assert.Null(await Quietly(() => h.Client.CoreV1.ReadNamespacedServiceAccountAsync("managers", "default")));
        AssertWithinPermissions(h);
    }

    [Fact]
    public async Task A_real_agent_applies_the_published_policy_and_the_status_counts_it()
    {
        await using var h = await OperatorHarness.StartAsync();
        await using var kv = await NatsKv.StartAsync();
        h.StartOperator(kv.PolicyStore, kv.Agents, loggers: new TestLoggers(output));
        var work = Directory.CreateTempSubdirectory("fim-op-agent-");
        try
        {
            var watched = Directory.CreateDirectory(Path.Combine(work.FullName, "etc")).FullName;
            File.WriteAllText(Path.Combine(watched, "app.conf"), "a=1");
            var config = Path.Combine(work.FullName, "agent.yaml");
            File.WriteAllText(config, $"""
                agentId: node-a
                labels:
                  fim.io/profile: pci
                nats:
                  url: {kv.Server.Url}
                stateDir: {Path.Combine(work.FullName, "state")}
                keyFile: {Path.Combine(work.FullName, "keys", "baseline.key")}
                heartbeatInterval: 1s
                """);
            using var agent = ChildProcess.Agent(["run", "--config", config]);

            await h.Policies.CreateAsync(Samples.Policy("pci", path: watched, matchLabels: Pci));

            await Eventually.TrueAsync(async () => (await h.Policies.GetAsync<FimPolicy>("pci"))!.Status is { AgentsTargeted: 1, AgentsApplied: 1, PublishedRevision: 1 },
                "the real agent applied revision 1", TimeSpan.FromSeconds(60));
            await h.Policies.UpdateAsync<FimPolicy>("pci", p => p.Spec.Paths[0].Exclude.Add("*.tmp"));
            await Eventually.TrueAsync(async () => (await h.Policies.GetAsync<FimPolicy>("pci"))!.Status is { PublishedRevision: 2, AgentsApplied: 1 },
                "the real agent applied revision 2 live", TimeSpan.FromSeconds(60));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Policy_is_published_to_KV_counted_from_heartbeats_refused_when_invalid_and_removed_on_delete()
    {
        await using var h = await OperatorHarness.StartAsync();
        await using var kv = await NatsKv.StartAsync();
        await kv.HeartbeatAsync("node-a", new() { ["fim.io/profile"] = "pci", ["zone"] = "a" }, []);
        await kv.HeartbeatAsync("node-b", new() { ["fim.io/profile"] = "web" }, []);
        await kv.Policies.PutAsync("default.deleted-while-away", "{}"u8.ToArray());
        h.StartOperator(kv.PolicyStore, kv.Agents, loggers: new TestLoggers(output));
        await Eventually.TrueAsync(async () => await kv.PolicyValueAsync("default.deleted-while-away") is null, "the orphaned KV entry swept");

        await h.Policies.CreateAsync(Samples.Policy("pci", matchLabels: Pci));
        await Eventually.TrueAsync(async () => await kv.PolicyValueAsync("default.pci") is not null, "the KV entry");
        var value = JsonNode.Parse((await kv.PolicyValueAsync("default.pci"))!)!;
        Assert.Equal((1, "default/pci", "/etc"), ((long)value["revision"]!, (string)value["name"]!, (string)value["spec"]!["paths"]![0]!["path"]!));
        await Eventually.TrueAsync(async () => (await h.Policies.GetAsync<FimPolicy>("pci"))!.Status is { AgentsTargeted: 1, AgentsApplied: 0, PublishedRevision: 1 }, "1 targeted, 0 applied");

        // The agent applies it and says so in its heartbeat.
        await kv.HeartbeatAsync("node-a", new() { ["fim.io/profile"] = "pci", ["zone"] = "a" }, new() { ["default/pci"] = 1 });
        await Eventually.TrueAsync(async () => (await h.Policies.GetAsync<FimPolicy>("pci"))!.Status is { AgentsTargeted: 1, AgentsApplied: 1 }, "1 applied");
        var status = (await h.Policies.GetAsync<FimPolicy>("pci"))!.Status!;
        Assert.True(Conditions.IsTrue(status.Conditions, "Accepted"));
        Assert.True(Conditions.IsTrue(status.Conditions, "Published"));

        // An edit is a new revision; the agent has not applied it yet.
        await h.Policies.UpdateAsync<FimPolicy>("pci", p => p.Spec.Paths.Add(new FimPathRule { Path = "/usr/bin" }));
        await Eventually.TrueAsync(async () => (await h.Policies.GetAsync<FimPolicy>("pci"))!.Status is { PublishedRevision: 2, AgentsApplied: 0 }, "revision 2 published, not yet applied");
        Assert.Equal(2, (long)JsonNode.Parse((await kv.PolicyValueAsync("default.pci"))!)!["revision"]!);

        // Valid for the schema, invalid for the compiler: Accepted=False naming the field, an Event, nothing in KV.
        var broken = Samples.Policy("broken");
        broken.Spec.Schedule = new FimSchedule { RescanInterval = "soon" };
        await h.Policies.CreateAsync(broken);
        await Eventually.TrueAsync(async () => Conditions.Find((await h.Policies.GetAsync<FimPolicy>("broken"))!.Status?.Conditions, "Accepted")?.Status == "False", "Accepted=False");
        var accepted = Conditions.Find((await h.Policies.GetAsync<FimPolicy>("broken"))!.Status!.Conditions, "Accepted")!;
        Assert.Equal("InvalidSpec", accepted.Reason);
        Assert.Contains("spec.schedule.rescanInterval", accepted.Message);
        await Eventually.TrueAsync(async () => (await h.Client.CoreV1.ListNamespacedEventAsync("default")).Items.Any(e => e.Reason == "InvalidSpec" && e.InvolvedObject.Name == "broken"), "an InvalidSpec event");
        Assert.Null(await kv.PolicyValueAsync("default.broken"));

        // Delete: the finalizer removes the KV entry, then the object goes.
        await h.Policies.DeleteAsync("pci");
        await Eventually.TrueAsync(async () => await h.Policies.GetAsync<FimPolicy>("pci") is null, "the policy gone");
        Assert.Null(await kv.PolicyValueAsync("default.pci"));
        AssertWithinPermissions(h);
    }

    [Fact]
    public async Task A_Velero_style_restore_converges_to_the_same_objects_and_orphaned_children_are_adopted()
    {
        await using var h = await OperatorHarness.StartAsync();
        await using var kv = await NatsKv.StartAsync();
        h.StartOperator(kv.PolicyStore, kv.Agents, loggers: new TestLoggers(output));
        await h.Pools.CreateAsync(Samples.Pool());
        await h.Policies.CreateAsync(Samples.Policy("pci", matchLabels: Pci));
        var before = await ConvergedAsync(h, kv);

        // Disaster: everything goes (the finalizer removes the KV entry, GC removes the children) ...
        await h.Policies.DeleteAsync("pci");
        await h.Pools.DeleteAsync("managers");
        await Eventually.TrueAsync(async () => await h.Policies.GetAsync<FimPolicy>("pci") is null && await DeploymentAsync(h) is null, "everything gone");
        Assert.Null(await kv.PolicyValueAsync("default.pci"));

        // ... and the backup's CRs come back without status and with new uids.
        await h.Pools.CreateAsync(Samples.Pool());
        await h.Policies.CreateAsync(Samples.Policy("pci", matchLabels: Pci));
        var after = await ConvergedAsync(h, kv);
        Assert.Equal(before, after);

        // Restored children next to a restored pool (orphaned by the delete) are adopted, not duplicated.
        await h.Client.CustomObjects.DeleteNamespacedCustomObjectAsync(FimApi.Group, FimApi.Version, "default", FimManagerPool.Plural, "managers", propagationPolicy: "Orphan");
        await Eventually.TrueAsync(async () => (await DeploymentAsync(h))?.Metadata.OwnerReferences is null or { Count: 0 }, "orphaned children");
        h.OperatorRequests.Seen.Clear();
        var restored = await h.Pools.CreateAsync(Samples.Pool());
        await Eventually.TrueAsync(async () => (await DeploymentAsync(h))?.Metadata.OwnerReferences?.SingleOrDefault()?.Uid == restored.Metadata.Uid, "the Deployment adopted");
        await Eventually.TrueAsync(async () => (await Quietly(() => h.Client.CoreV1.ReadNamespacedServiceAccountAsync("managers", "default")))?.Metadata.OwnerReferences?.SingleOrDefault()?.Uid == restored.Metadata.Uid, "the ServiceAccount adopted");
        Assert.DoesNotContain(h.OperatorRequests.Seen.Keys, k => k.Verb == "create" && k.Resource != "events");
        Assert.Equal(before, await ConvergedAsync(h, kv));
        AssertWithinPermissions(h);
    }

    /// <summary>Waits for both CRs to be reconciled; returns the children's owned fields and the KV value, uid-free.</summary>
    private static async Task<string> ConvergedAsync(OperatorHarness h, NatsKv kv)
    {
        await Eventually.TrueAsync(async () => (await h.Policies.GetAsync<FimPolicy>("pci"))?.Status?.PublishedRevision is not null, "policy published");
        await Eventually.TrueAsync(async () => (await h.Pools.GetAsync<FimManagerPool>("managers"))?.Status?.ObservedGeneration is not null, "pool status");
        await Eventually.TrueAsync(async () => await Quietly(() => h.Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("managers", "default")) is { Metadata.OwnerReferences.Count: 1 }, "children owned");
        var d = (await DeploymentAsync(h))!;
        var s = await h.Client.CoreV1.ReadNamespacedServiceAsync("managers", "default");
        var hpa = await h.Client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync("managers", "default");
        var pdb = await h.Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("managers", "default");
        var sa = await h.Client.CoreV1.ReadNamespacedServiceAccountAsync("managers", "default");
        // The applied-hash annotation covers the owner's uid, which a restore changes.
        s.Metadata.Annotations.Remove(Controllers.Pool.PoolReconciler.AppliedHashAnnotation);
        var snapshot = new JsonObject
        {
            ["deployment"] = JsonNode.Parse(KubernetesJson.Serialize(new { d.Metadata.Labels, d.Spec.Selector, d.Spec.Template, d.Spec.Replicas })),
            ["service"] = JsonNode.Parse(KubernetesJson.Serialize(new { s.Metadata.Labels, s.Metadata.Annotations, s.Spec.Type, s.Spec.Ports, s.Spec.Selector })),
            ["hpa"] = JsonNode.Parse(KubernetesJson.Serialize(hpa.Spec)),
            ["pdb"] = JsonNode.Parse(KubernetesJson.Serialize(pdb.Spec)),
            ["sa"] = JsonNode.Parse(KubernetesJson.Serialize(new { sa.Metadata.Labels, sa.AutomountServiceAccountToken })),
            ["kv"] = Convert.ToBase64String((await kv.PolicyValueAsync("default.pci"))!),
        };
        return snapshot.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
