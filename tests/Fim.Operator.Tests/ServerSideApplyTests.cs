using System.Text.Json.Nodes;
using Fim.Operator.Api;
using Fim.Operator.Controllers.Pool;
using Fim.Operator.Runtime;
using Fim.Operator.Tests.Support;
using Fim.Testing;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit.Abstractions;

namespace Fim.Operator.Tests;

/// <summary>
/// Acceptance 5 of the cluster issue: children written with server-side apply, against the API double (which tracks
/// field ownership per manager) with the real KubernetesClient. What the pool stops setting goes, what someone edits
/// that the operator owns comes back, and what an autoscaler owns stays.
/// </summary>
public sealed class ServerSideApplyTests(ITestOutputHelper output)
{
    private const string Ns = "default";

    private static async Task<T?> Quietly<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static Task<V1Service?> ServiceAsync(OperatorHarness h) => Quietly(() => h.Client.CoreV1.ReadNamespacedServiceAsync("managers", Ns));

    private static Task<V1Deployment?> DeploymentAsync(OperatorHarness h) => Quietly(() => h.Client.AppsV1.ReadNamespacedDeploymentAsync("managers", Ns));

    /// <summary>KEDA's CRD, reduced to what the operator writes (the real one is validated by the chart's tests).</summary>
    private static V1CustomResourceDefinition ScaledObjectCrd() => new()
    {
        ApiVersion = "apiextensions.k8s.io/v1",
        Kind = "CustomResourceDefinition",
        Metadata = new V1ObjectMeta { Name = "scaledobjects.keda.sh" },
        Spec = new V1CustomResourceDefinitionSpec
        {
            Group = "keda.sh",
            Scope = "Namespaced",
            Names = new V1CustomResourceDefinitionNames { Kind = "ScaledObject", ListKind = "ScaledObjectList", Plural = "scaledobjects", Singular = "scaledobject", ShortNames = ["so"] },
            Versions =
            [
                new V1CustomResourceDefinitionVersion
                {
                    Name = "v1alpha1",
                    Served = true,
                    Storage = true,
                    Subresources = new V1CustomResourceSubresources { Status = new object() },
                    Schema = new V1CustomResourceValidation
                    {
                        OpenAPIV3Schema = new V1JSONSchemaProps
                        {
                            Type = "object",
                            Properties = new Dictionary<string, V1JSONSchemaProps>
                            {
                                ["spec"] = new() { Type = "object", XKubernetesPreserveUnknownFields = true },
                                ["status"] = new() { Type = "object", XKubernetesPreserveUnknownFields = true },
                            },
                        },
                    },
                },
            ],
        },
    };

    [Fact]
    public async Task Removed_labels_and_annotations_go_edited_owned_fields_come_back_and_HPA_replicas_stay()
    {
        await using var h = await OperatorHarness.StartAsync();
        h.StartOperator(new MemoryPolicyStore(), new MemoryAgentDirectory(), loggers: new TestLoggers(output));
        var pool = Samples.Pool();
        pool.Spec.Service!.Labels = new() { ["team"] = "sec", ["cost-center"] = "42" };
        pool.Spec.Service.Annotations = new() { ["example.com/owner"] = "sec", ["example.com/ticket"] = "FIM-1" };
        await h.Pools.CreateAsync(pool);

        await Eventually.TrueAsync(async () => (await ServiceAsync(h))?.Metadata.Annotations?.ContainsKey("example.com/ticket") == true, "the Service with both annotations");
        var svc = (await ServiceAsync(h))!;
        Assert.Equal(("sec", "42"), (svc.Metadata.Labels["team"], svc.Metadata.Labels["cost-center"]));
        Assert.Equal(2, (await DeploymentAsync(h))!.Spec.Replicas); // a new Deployment starts at replicas.min

        // The HPA scales the Deployment through /scale, as the real controller does.
        await h.Client.AppsV1.PatchNamespacedDeploymentScaleAsync(
            new V1Patch("""{"spec":{"replicas":5}}""", V1Patch.PatchType.MergePatch), "managers", Ns, fieldManager: "kube-controller-manager");

        // The user drops a label and an annotation from the pool and changes the image.
        await h.Pools.UpdateAsync<FimManagerPool>("managers", p =>
        {
            p.Spec.Service!.Labels!.Remove("cost-center");
            p.Spec.Service.Annotations!.Remove("example.com/ticket");
            p.Spec.Image = "ghcr.io/fimoperator/fim-manager:0.2.0";
        });
        await Eventually.TrueAsync(async () => (await DeploymentAsync(h))!.Spec.Template.Spec.Containers[0].Image.EndsWith("0.2.0", StringComparison.Ordinal), "the new image");
        await Eventually.TrueAsync(async () =>
        {
            var s = (await ServiceAsync(h))!;
            return !s.Metadata.Labels.ContainsKey("cost-center") && !s.Metadata.Annotations.ContainsKey("example.com/ticket");
        }, "the dropped label and annotation removed from the Service");
        svc = (await ServiceAsync(h))!;
        Assert.Equal("sec", svc.Metadata.Labels["team"]);
        Assert.Equal("sec", svc.Metadata.Annotations["example.com/owner"]);
        Assert.Equal("internal", svc.Metadata.Annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"]);
        Assert.Equal(5, (await DeploymentAsync(h))!.Spec.Replicas); // the HPA's replicas are left alone

        // Someone edits fields the operator owns: they are put back. A label of their own is left.
        await h.Client.CoreV1.PatchNamespacedServiceAsync(
            new V1Patch("""{"metadata":{"labels":{"team":"ops","mine":"yes"},"annotations":{"service.beta.kubernetes.io/aws-load-balancer-scheme":"internet-facing"}}}""", V1Patch.PatchType.MergePatch),
            "managers", Ns, fieldManager: "kubectl-edit");
        await Eventually.TrueAsync(async () =>
        {
            var s = (await ServiceAsync(h))!;
            return s.Metadata.Labels["team"] == "sec" && s.Metadata.Annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal";
        }, "the operator's values put back");
        Assert.Equal("yes", (await ServiceAsync(h))!.Metadata.Labels["mine"]);

        var deployment = (await DeploymentAsync(h))!;
        deployment.Spec.Template.Spec.Containers[0].Image = "evil:1";
        await h.Client.AppsV1.ReplaceNamespacedDeploymentAsync(deployment, "managers", Ns);
        await Eventually.TrueAsync(async () => (await DeploymentAsync(h))!.Spec.Template.Spec.Containers[0].Image.EndsWith("0.2.0", StringComparison.Ordinal), "the image put back");
        Assert.Equal(5, (await DeploymentAsync(h))!.Spec.Replicas);

        // Every write to a child was an apply (no create, update or GET of children).
        foreach (var resource in new[] { "deployments", "services", "serviceaccounts", "horizontalpodautoscalers", "poddisruptionbudgets" })
        {
            var seen = h.OperatorRequests.Seen.Where(k => k.Key.Resource == resource).Select(k => k.Key.Verb).Distinct().ToList();
            Assert.All(seen, verb => Assert.Contains(verb, new[] { "list", "watch", "patch" }));
        }
    }

    [Fact]
    public async Task Keda_provider_replaces_the_HPA_with_a_ScaledObject_and_what_KEDA_owns_is_left_alone()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(ScaledObjectCrd());
        h.StartOperator(new MemoryPolicyStore(), new MemoryAgentDirectory(), loggers: new TestLoggers(output));
        await h.Pools.CreateAsync(Samples.Pool());
        await Eventually.TrueAsync(async () => await Quietly(() => h.Client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync("managers", Ns)) is not null, "the operator's HPA");

        await h.Pools.UpdateAsync<FimManagerPool>("managers", p => p.Spec.Autoscaling = new PoolAutoscaling
        {
            Provider = PoolAutoscaling.KedaProvider,
            PendingPerReplica = 2000,
            Keda = new PoolKeda { NatsMonitoringEndpoint = "nats.fim.svc:8222" },
        });
        await Eventually.TrueAsync(async () => await ScaledObjectAsync(h) is not null, "the ScaledObject");
        await Eventually.TrueAsync(async () => await Quietly(() => h.Client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync("managers", Ns)) is null, "the operator's HPA deleted");
        var so = (await ScaledObjectAsync(h))!;
        Assert.Equal("2000", so["spec"]!["triggers"]![0]!["metadata"]!["lagThreshold"]!.GetValue<string>());
        Assert.Equal((await h.Pools.GetAsync<FimManagerPool>("managers"))!.Metadata.Uid, so["metadata"]!["ownerReferences"]![0]!["uid"]!.GetValue<string>());

        // KEDA: its own HPA (not the operator's), a label and a finalizer on the ScaledObject, and it scales the Deployment.
        await h.Client.AutoscalingV2.CreateNamespacedHorizontalPodAutoscalerAsync(new V2HorizontalPodAutoscaler
        {
            Metadata = new V1ObjectMeta { Name = "keda-hpa-managers", Labels = new Dictionary<string, string> { ["scaledobject.keda.sh/name"] = "managers" } },
            Spec = new V2HorizontalPodAutoscalerSpec { ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "managers" }, MinReplicas = 2, MaxReplicas = 6 },
        }, Ns, fieldManager: "keda");
        await h.Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"metadata":{"labels":{"scaledobject.keda.sh/name":"managers"},"finalizers":["finalizer.keda.sh"]}}""", V1Patch.PatchType.MergePatch),
            "keda.sh", "v1alpha1", Ns, "scaledobjects", "managers", fieldManager: "keda");
        await h.Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("""{"spec":{"replicas":4}}""", V1Patch.PatchType.MergePatch), "managers", Ns, fieldManager: "keda");

        await h.Pools.UpdateAsync<FimManagerPool>("managers", p =>
        {
            p.Spec.Image = "ghcr.io/fimoperator/fim-manager:0.3.0";
            p.Spec.Autoscaling!.PendingPerReplica = 3000;
        });
        await Eventually.TrueAsync(async () => (await ScaledObjectAsync(h))!["spec"]!["triggers"]![0]!["metadata"]!["lagThreshold"]!.GetValue<string>() == "3000", "the new lag threshold");
        await Eventually.TrueAsync(async () => (await DeploymentAsync(h))!.Spec.Template.Spec.Containers[0].Image.EndsWith("0.3.0", StringComparison.Ordinal), "the new image");
        so = (await ScaledObjectAsync(h))!;
        Assert.Equal("managers", so["metadata"]!["labels"]!["scaledobject.keda.sh/name"]!.GetValue<string>());
        Assert.Contains("finalizer.keda.sh", so["metadata"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal(4, (await DeploymentAsync(h))!.Spec.Replicas);
        var kedaHpa = await h.Client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync("keda-hpa-managers", Ns);
        Assert.Null(kedaHpa.Metadata.OwnerReferences);

        // Back to prometheus-adapter: the operator's HPA returns and its ScaledObject goes (once KEDA drops its finalizer).
        await h.Pools.UpdateAsync<FimManagerPool>("managers", p => p.Spec.Autoscaling!.Provider = PoolAutoscaling.PrometheusAdapterProvider);
        await Eventually.TrueAsync(async () => await Quietly(() => h.Client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync("managers", Ns)) is not null, "the operator's HPA back");
        await Eventually.TrueAsync(async () => (await ScaledObjectAsync(h))?["metadata"]?["deletionTimestamp"] is not null, "the ScaledObject being deleted");
        Assert.Equal(4, (await DeploymentAsync(h))!.Spec.Replicas);
    }

    [Fact]
    public async Task A_missing_Secret_is_Degraded_naming_it_and_its_arrival_clears_it()
    {
        await using var h = await OperatorHarness.StartAsync();
        h.StartOperator(new MemoryPolicyStore(), new MemoryAgentDirectory(), loggers: new TestLoggers(output));
        await h.Pools.CreateAsync(Samples.Pool()); // refers to Secret nats-auth, which does not exist
        await Eventually.TrueAsync(async () => Conditions.Find((await h.Pools.GetAsync<FimManagerPool>("managers"))!.Status?.Conditions, "Degraded") is { Status: "True", Reason: "SecretMissing" }, "Degraded=True SecretMissing");
        var degraded = Conditions.Find((await h.Pools.GetAsync<FimManagerPool>("managers"))!.Status!.Conditions, "Degraded")!;
        Assert.Contains("Secret default/nats-auth (nats.secretRef) not found", degraded.Message);

        await h.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "nats-auth" }, StringData = new Dictionary<string, string> { ["user"] = "m", ["password"] = "p" } }, Ns);
        await Eventually.TrueAsync(async () => Conditions.Find((await h.Pools.GetAsync<FimManagerPool>("managers"))!.Status?.Conditions, "Degraded") is { Status: "False" }, "Degraded=False once the Secret exists (the Secret watch wakes the pool)");
    }

    [Fact]
    public async Task A_spec_the_CEL_rules_refuse_is_a_terminal_InvalidSpec_and_nothing_is_applied()
    {
        await using var h = await OperatorHarness.StartAsync();
        var op = h.StartOperator(new MemoryPolicyStore(), new MemoryAgentDirectory(), loggers: new TestLoggers(output));
        var pool = Samples.Pool();
        pool.Spec.Replicas = new PoolReplicas { Min = 5, Max = 3 }; // the double does not run CEL; the operator refuses it too
        await h.Pools.CreateAsync(pool);
        await Eventually.TrueAsync(async () => Conditions.Find((await h.Pools.GetAsync<FimManagerPool>("managers"))!.Status?.Conditions, "Degraded") is { Status: "True", Reason: "InvalidSpec" }, "Degraded=True InvalidSpec");
        Assert.Contains("replicas.min (5) must not exceed replicas.max (3)", Conditions.Find((await h.Pools.GetAsync<FimManagerPool>("managers"))!.Status!.Conditions, "Degraded")!.Message);
        Assert.Null(await DeploymentAsync(h));
        await Eventually.TrueAsync(() => op.Pools!.Reconciles >= 1, "the first reconcile finished");
        var reconciles = op.Pools!.Reconciles;
        Assert.Equal(0, op.Pools.Queue.Failures("default/managers")); // not counted as a failure to back off from
        await Task.Delay(TimeSpan.FromSeconds(1)); // the only sleep: proving that nothing happens (no retries of a terminal error)
        Assert.Equal(reconciles, op.Pools!.Reconciles);

        await h.Pools.UpdateAsync<FimManagerPool>("managers", p => p.Spec.Replicas!.Max = 8);
        await Eventually.TrueAsync(async () => await DeploymentAsync(h) is not null, "children once the spec is valid");
    }

    private static async Task<JsonObject?> ScaledObjectAsync(OperatorHarness h)
    {
        var o = await Quietly(() => h.Client.CustomObjects.GetNamespacedCustomObjectAsync("keda.sh", "v1alpha1", Ns, "scaledobjects", "managers"));
        return o is null ? null : JsonNode.Parse(KubernetesJson.Serialize(o)) as JsonObject;
    }
}
