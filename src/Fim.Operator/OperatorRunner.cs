using Fim.Operator.Api;
using Fim.Operator.Controllers.Chaos;
using Fim.Operator.Controllers.Node;
using Fim.Operator.Controllers.Policy;
using Fim.Operator.Controllers.Pool;
using Fim.Operator.Runtime;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Fim.Operator;

/// <summary>
/// Wires the two controllers onto the runtime: FimPolicy (-> KV) and FimManagerPool (-> children, also woken by
/// changes to the children it owns and to the Secrets it refers to). Only the Lease holder runs them; a new leader
/// starts from a fresh list. Nothing here waits for NATS: policies report KvUnavailable until it is there.
/// </summary>
public sealed class OperatorRunner(IKubernetes client, IPolicyStore store, IAgentDirectory agents, OperatorOptions options, ILoggerFactory loggers)
{
    private readonly LeaderGate _gate = new(client, options.LeaderElection, loggers.CreateLogger<LeaderGate>());

    public bool IsLeader => _gate.IsLeader;

    public string Identity => options.LeaderElection.Identity;

    /// <summary>The running policy controller while leading (for tests and the benchmark).</summary>
    public Controller<FimPolicy, CustomResourceList<FimPolicy>>? Policies { get; private set; }

    public Controller<FimManagerPool, CustomResourceList<FimManagerPool>>? Pools { get; private set; }

    /// <summary>Per-node status, re-baseline and integrity Events (issue 18; Controllers/NodeStatus): run while leading when set.</summary>
    public Controllers.NodeStatus.NodeStatusSetup? NodeStatus { get; init; }

    /// <summary>The running node status controller while leading (tests).</summary>
    public Controllers.NodeStatus.NodeStatusController? NodeStatuses { get; private set; }

    /// <summary>KV fim-maintenance for the node hold-off; without it (or with --namespace: Nodes are cluster-scoped) there is none.</summary>
    public IMaintenanceWindowStore? Maintenance { get; init; }

    /// <summary>Where pool scaling notifications go (the managers' webhook sink); none without it.</summary>
    public Notifications.INotificationPublisher? Notifications { get; init; }

    /// <summary>How often chaos mode looks for pools due a pod deletion.</summary>
    public TimeSpan ChaosTick { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The node hold-off controller while leading, when there is one.</summary>
    public Controller<V1Node, V1NodeList>? Nodes { get; private set; }

    /// <summary>Chaos mode while leading.</summary>
    public PoolChaosMonkey? Chaos { get; private set; }

    private volatile bool _stopping;

    public async Task RunAsync(CancellationToken ct)
    {
        await using var stopping = ct.Register(() => _stopping = true);
        await _gate.RunAsync(RunControllersAsync, ct);
    }

    /// <summary>
    /// /readyz: the leader once its caches are synced and its controllers run; a standby once it has seen the Lease
    /// (it can reach the API server and take over). Never while shutting down.
    /// </summary>
    public bool Ready => !_stopping && (_gate.IsLeader ? Policies?.Running == true && Pools?.Running == true : _gate.Observed);

    /// <summary>KV became reachable (again): look at every policy now rather than at its next retry.</summary>
    public void OnKvAvailable() => Policies?.EnqueueAll();

    private async Task RunControllersAsync(CancellationToken ct)
    {
        var events = new EventRecorder(client, "fim-operator", Identity, loggers.CreateLogger<EventRecorder>());
        using var policies = new Controller<FimPolicy, CustomResourceList<FimPolicy>>(
            "fimpolicy",
            CustomInformer<FimPolicy>(FimPolicy.Plural),
            new PolicyReconciler(new ResourceClient(client, FimApi.Group, FimApi.Version, FimPolicy.Plural), store, agents, events, options.Policies, loggers.CreateLogger<PolicyReconciler>()),
            options.Controllers,
            loggers.CreateLogger("Fim.Operator.Controllers.FimPolicy"));
        var children = ChildInformers();
        var secrets = SecretInformer();
        var configMaps = ConfigMapInformer();
        using var pools = new Controller<FimManagerPool, CustomResourceList<FimManagerPool>>(
            "fimmanagerpool",
            CustomInformer<FimManagerPool>(FimManagerPool.Plural),
            new PoolReconciler(
                client,
                new ResourceClient(client, FimApi.Group, FimApi.Version, FimManagerPool.Plural),
                events,
                new PoolChildKinds(
                    ChildKinds.ServiceAccount(client, new InformerChildCache<V1ServiceAccount, V1ServiceAccountList>(children.ServiceAccounts)),
                    ChildKinds.Deployment(client, new InformerChildCache<V1Deployment, V1DeploymentList>(children.Deployments)),
                    ChildKinds.Service(client, new InformerChildCache<V1Service, V1ServiceList>(children.Services)),
                    ChildKinds.Autoscaler(client, new InformerChildCache<V2HorizontalPodAutoscaler, V2HorizontalPodAutoscalerList>(children.Autoscalers)),
                    ChildKinds.ScaledObject(client, new InformerChildCache<KedaScaledObject, CustomResourceList<KedaScaledObject>>(children.ScaledObjects)),
                    ChildKinds.DisruptionBudget(client, new InformerChildCache<V1PodDisruptionBudget, V1PodDisruptionBudgetList>(children.DisruptionBudgets)),
                    ChildKinds.Claim(client, new InformerChildCache<V1PersistentVolumeClaim, V1PersistentVolumeClaimList>(children.Claims))),
                new PoolReferences((ns, name) => secrets.Get(ResourceKey.Of(ns, name)), (ns, name) => configMaps.Get(ResourceKey.Of(ns, name))),
                options.PoolRefresh,
                loggers.CreateLogger<PoolReconciler>(),
                Notifications),
            options.Controllers,
            loggers.CreateLogger("Fim.Operator.Controllers.FimManagerPool"));
        WatchChildren(pools, children);
        pools.WatchMany(secrets, secret => pools.Informer.Items
            .Where(p => p.Metadata.NamespaceProperty == secret.Metadata.NamespaceProperty
                && PoolDesiredState.WatchedSecrets(p.Spec).Contains(secret.Metadata.Name))
            .Select(ResourceKey.Of));
        pools.WatchMany(configMaps, config => pools.Informer.Items
            .Where(p => p.Metadata.NamespaceProperty == config.Metadata.NamespaceProperty
                && PoolDesiredState.ConfigMapReferences(p.Spec).Any(r => r.ConfigMap == config.Metadata.Name))
            .Select(ResourceKey.Of));

        var chaos = new PoolChaosMonkey(client, () => pools.Informer.Items, events, loggers.CreateLogger<PoolChaosMonkey>()) { Tick = ChaosTick };
        // Nodes are cluster-scoped: an operator limited to one namespace (a Role) does not watch them. One Node cache serves
        // the hold-off (whose controller runs it) and the node statuses.
        var nodeInformer = options.Namespace is null && (Maintenance is not null || NodeStatus is not null) ? NodeInformer() : null;
        using var nodes = Maintenance is { } maintenance && nodeInformer is not null
            ? new Controller<V1Node, V1NodeList>(
                "node-holdoff",
                nodeInformer,
                new NodeHoldOffReconciler(client, maintenance, () => policies.Informer.Items, agents, Identity, loggers.CreateLogger<NodeHoldOffReconciler>(),
                    rebaseliner: NodeStatus?.Rebaseliner),
                options.Controllers,
                loggers.CreateLogger("Fim.Operator.Controllers.NodeHoldOff"),
                (old, obj) => old.Spec?.Unschedulable != obj.Spec?.Unschedulable || Controller<V1Node, V1NodeList>.SpecOrLifecycleChanged(old, obj))
            : null;
        void OnPolicy(k8s.WatchEventType type, FimPolicy? old, FimPolicy obj) => nodes?.EnqueueAll();
        policies.Informer.Changed += OnPolicy;

        // Heartbeats change all the time: coalesce them into at most one pass over the policies per AgentsCoalesce.
        var agentsChanged = 0;
        void OnAgents() => Interlocked.Exchange(ref agentsChanged, 1);
        agents.Changed += OnAgents;
        (Policies, Pools, Nodes, Chaos) = (policies, pools, nodes, chaos);
        try
        {
            NodeStatuses = NodeStatus is { } setup ? NodeStatusController(policies.Informer, nodeInformer, runNodes: nodes is null, setup) : null;
            await Task.WhenAll(policies.RunAsync(ct), pools.RunAsync(ct), RecountAsync(), SweepAsync(), chaos.RunAsync(ct), nodes?.RunAsync(ct) ?? Task.CompletedTask,
                NodeStatuses?.RunAsync(ct) ?? Task.CompletedTask);
        }
        finally
        {
            agents.Changed -= OnAgents;
            policies.Informer.Changed -= OnPolicy;
            (Policies, Pools, Nodes, Chaos, NodeStatuses) = (null, null, null, null, null);
        }

        async Task SweepAsync()
        {
            var sweeper = new PolicySweeper(store, loggers.CreateLogger<PolicySweeper>());
            try
            {
                await policies.Informer.Synced.WaitAsync(ct);
                using var timer = new PeriodicTimer(options.Controllers.ResyncPeriod);
                do
                {
                    try
                    {
                        await sweeper.SweepAsync(policies.Informer.Keys, options.Namespace, ct);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        loggers.CreateLogger<PolicySweeper>().LogWarning("sweeping KV: {Error}", e.Message);
                    }
                }
                while (await timer.WaitForNextTickAsync(ct));
            }
            catch (OperationCanceledException)
            {
            }
        }

        async Task RecountAsync()
        {
            using var timer = new PeriodicTimer(options.AgentsCoalesce);
            try
            {
                while (await timer.WaitForNextTickAsync(ct))
                {
                    if (Interlocked.Exchange(ref agentsChanged, 0) == 1)
                    {
                        policies.EnqueueAll();
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>Without <paramref name="nodes"/> (namespace scope) statuses have no Node owner; <paramref name="runNodes"/>: no other controller runs that informer.</summary>
    private Controllers.NodeStatus.NodeStatusController NodeStatusController(Informer<FimPolicy, CustomResourceList<FimPolicy>> policies, Informer<V1Node, V1NodeList>? nodes,
        bool runNodes, Controllers.NodeStatus.NodeStatusSetup setup) =>
        new(client, policies, CustomInformer<FimNodeStatus>(FimNodeStatus.Plural), nodes, agents, setup.Rebaseliner, setup.Unreviewed,
            Identity, setup.Options, loggers.CreateLogger<Controllers.NodeStatus.NodeStatusController>())
        { RunsNodeInformer = runNodes };

    private Informer<T, CustomResourceList<T>> CustomInformer<T>(string plural)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        ListCall<CustomResourceList<T>> list = options.Namespace is { } ns
            ? (rv, watch, timeout, ct) => client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<CustomResourceList<T>>(
                FimApi.Group, FimApi.Version, ns, plural, allowWatchBookmarks: watch ? true : null, resourceVersion: rv, timeoutSeconds: timeout, watch: watch, cancellationToken: ct)
            : (rv, watch, timeout, ct) => client.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<CustomResourceList<T>>(
                FimApi.Group, FimApi.Version, plural, allowWatchBookmarks: watch ? true : null, resourceVersion: rv, timeoutSeconds: timeout, watch: watch, cancellationToken: ct);
        return new Informer<T, CustomResourceList<T>>(plural, list, options.Informers, loggers.CreateLogger($"Fim.Operator.Informer.{plural}"));
    }

    /// <summary>Every Node, cached as its name, labels, annotations and spec.unschedulable only (the hold-off reads nothing else).</summary>
    private Informer<V1Node, V1NodeList> NodeInformer() =>
        new("nodes", (rv, watch, timeout, ct) => client.CoreV1.ListNodeWithHttpMessagesAsync(allowWatchBookmarks: watch ? true : null, resourceVersion: rv, timeoutSeconds: timeout, watch: watch, cancellationToken: ct),
            options.Informers, loggers.CreateLogger("Fim.Operator.Informer.nodes"))
        {
            Transform = n => new V1Node
            {
                ApiVersion = "v1",
                Kind = "Node",
                Metadata = new V1ObjectMeta
                {
                    Name = n.Metadata.Name,
                    Uid = n.Metadata.Uid,
                    ResourceVersion = n.Metadata.ResourceVersion,
                    Labels = n.Metadata.Labels,
                    Annotations = n.Metadata.Annotations,
                    DeletionTimestamp = n.Metadata.DeletionTimestamp,
                },
                Spec = new V1NodeSpec { Unschedulable = n.Spec?.Unschedulable },
            },
        };

    /// <summary>An informer over the operator's children of one kind (label app.kubernetes.io/managed-by=fim-operator).</summary>
    private Informer<T, TList> ChildInformer<T, TList>(string plural, ChildList<TList> inNamespace, ChildList<TList> everywhere)
        where T : IKubernetesObject<V1ObjectMeta>
        where TList : IItems<T>, IMetadata<V1ListMeta>
    {
        ListCall<TList> list = options.Namespace is { } ns
            ? (rv, watch, timeout, ct) => inNamespace(ns, watch ? true : null, PoolLabels.ManagedSelector, rv, timeout, watch, ct)
            : (rv, watch, timeout, ct) => everywhere(null, watch ? true : null, PoolLabels.ManagedSelector, rv, timeout, watch, ct);
        return new Informer<T, TList>(plural, list, options.Informers, loggers.CreateLogger($"Fim.Operator.Informer.{plural}"));
    }

    private sealed record PoolChildInformers(
        Informer<V1Deployment, V1DeploymentList> Deployments,
        Informer<V1Service, V1ServiceList> Services,
        Informer<V1ServiceAccount, V1ServiceAccountList> ServiceAccounts,
        Informer<V2HorizontalPodAutoscaler, V2HorizontalPodAutoscalerList> Autoscalers,
        Informer<V1PodDisruptionBudget, V1PodDisruptionBudgetList> DisruptionBudgets,
        Informer<KedaScaledObject, CustomResourceList<KedaScaledObject>> ScaledObjects,
        Informer<V1PersistentVolumeClaim, V1PersistentVolumeClaimList> Claims);

    private PoolChildInformers ChildInformers() => new(
        ChildInformer<V1Deployment, V1DeploymentList>(
            "deployments",
            (ns, b, l, rv, t, w, ct) => client.AppsV1.ListNamespacedDeploymentWithHttpMessagesAsync(ns!, allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct),
            (_, b, l, rv, t, w, ct) => client.AppsV1.ListDeploymentForAllNamespacesWithHttpMessagesAsync(allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct)),
        ChildInformer<V1Service, V1ServiceList>(
            "services",
            (ns, b, l, rv, t, w, ct) => client.CoreV1.ListNamespacedServiceWithHttpMessagesAsync(ns!, allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct),
            (_, b, l, rv, t, w, ct) => client.CoreV1.ListServiceForAllNamespacesWithHttpMessagesAsync(allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct)),
        ChildInformer<V1ServiceAccount, V1ServiceAccountList>(
            "serviceaccounts",
            (ns, b, l, rv, t, w, ct) => client.CoreV1.ListNamespacedServiceAccountWithHttpMessagesAsync(ns!, allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct),
            (_, b, l, rv, t, w, ct) => client.CoreV1.ListServiceAccountForAllNamespacesWithHttpMessagesAsync(allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct)),
        ChildInformer<V2HorizontalPodAutoscaler, V2HorizontalPodAutoscalerList>(
            "horizontalpodautoscalers",
            (ns, b, l, rv, t, w, ct) => client.AutoscalingV2.ListNamespacedHorizontalPodAutoscalerWithHttpMessagesAsync(ns!, allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct),
            (_, b, l, rv, t, w, ct) => client.AutoscalingV2.ListHorizontalPodAutoscalerForAllNamespacesWithHttpMessagesAsync(allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct)),
        ChildInformer<V1PodDisruptionBudget, V1PodDisruptionBudgetList>(
            "poddisruptionbudgets",
            (ns, b, l, rv, t, w, ct) => client.PolicyV1.ListNamespacedPodDisruptionBudgetWithHttpMessagesAsync(ns!, allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct),
            (_, b, l, rv, t, w, ct) => client.PolicyV1.ListPodDisruptionBudgetForAllNamespacesWithHttpMessagesAsync(allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct)),
        ChildInformer<KedaScaledObject, CustomResourceList<KedaScaledObject>>(
            PoolDesiredState.ScaledObjectPlural,
            (ns, b, l, rv, t, w, ct) => client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<CustomResourceList<KedaScaledObject>>(
                PoolDesiredState.KedaGroup, PoolDesiredState.KedaVersion, ns!, PoolDesiredState.ScaledObjectPlural, allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct),
            (_, b, l, rv, t, w, ct) => client.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<CustomResourceList<KedaScaledObject>>(
                PoolDesiredState.KedaGroup, PoolDesiredState.KedaVersion, PoolDesiredState.ScaledObjectPlural, allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct)),
        ChildInformer<V1PersistentVolumeClaim, V1PersistentVolumeClaimList>(
            "persistentvolumeclaims",
            (ns, b, l, rv, t, w, ct) => client.CoreV1.ListNamespacedPersistentVolumeClaimWithHttpMessagesAsync(ns!, allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct),
            (_, b, l, rv, t, w, ct) => client.CoreV1.ListPersistentVolumeClaimForAllNamespacesWithHttpMessagesAsync(allowWatchBookmarks: b, labelSelector: l, resourceVersion: rv, timeoutSeconds: t, watch: w, cancellationToken: ct)));

    /// <summary>Owns(): every child kind wakes its pool, so drift and deletions are corrected at once.</summary>
    private static void WatchChildren(Controller<FimManagerPool, CustomResourceList<FimManagerPool>> pools, PoolChildInformers children)
    {
        pools.Watch(children.Deployments, d => PoolLabels.OwnerKey(d.Metadata));
        pools.Watch(children.Services, o => PoolLabels.OwnerKey(o.Metadata));
        pools.Watch(children.ServiceAccounts, o => PoolLabels.OwnerKey(o.Metadata));
        pools.Watch(children.Autoscalers, o => PoolLabels.OwnerKey(o.Metadata));
        pools.Watch(children.DisruptionBudgets, o => PoolLabels.OwnerKey(o.Metadata));
        pools.Watch(children.Claims, o => PoolLabels.OwnerKey(o.Metadata));
        // Optional: without KEDA the kind is not served and this cache never syncs; pools using KEDA then say so.
        pools.Watch(children.ScaledObjects, o => PoolLabels.OwnerKey(o.Metadata), required: false);
    }

    /// <summary>The Secrets pools refer to (all in scope; metadata only is kept), so a missing one is noticed and its arrival wakes the pool.</summary>
    private Informer<V1Secret, V1SecretList> SecretInformer()
    {
        ListCall<V1SecretList> list = options.Namespace is { } ns
            ? (rv, watch, timeout, ct) => client.CoreV1.ListNamespacedSecretWithHttpMessagesAsync(ns, allowWatchBookmarks: watch ? true : null, resourceVersion: rv, timeoutSeconds: timeout, watch: watch, cancellationToken: ct)
            : (rv, watch, timeout, ct) => client.CoreV1.ListSecretForAllNamespacesWithHttpMessagesAsync(allowWatchBookmarks: watch ? true : null, resourceVersion: rv, timeoutSeconds: timeout, watch: watch, cancellationToken: ct);
        return new Informer<V1Secret, V1SecretList>("secrets", list, options.Informers, loggers.CreateLogger("Fim.Operator.Informer.secrets"))
        {
            Transform = ReferenceCache.WithoutData,
        };
    }

    /// <summary>The ConfigMaps pools refer to, metadata only, for the same reasons as <see cref="SecretInformer"/>.</summary>
    private Informer<V1ConfigMap, V1ConfigMapList> ConfigMapInformer()
    {
        ListCall<V1ConfigMapList> list = options.Namespace is { } ns
            ? (rv, watch, timeout, ct) => client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync(ns, allowWatchBookmarks: watch ? true : null, resourceVersion: rv, timeoutSeconds: timeout, watch: watch, cancellationToken: ct)
            : (rv, watch, timeout, ct) => client.CoreV1.ListConfigMapForAllNamespacesWithHttpMessagesAsync(allowWatchBookmarks: watch ? true : null, resourceVersion: rv, timeoutSeconds: timeout, watch: watch, cancellationToken: ct);
        return new Informer<V1ConfigMap, V1ConfigMapList>("configmaps", list, options.Informers, loggers.CreateLogger("Fim.Operator.Informer.configmaps"))
        {
            Transform = ReferenceCache.WithoutData,
        };
    }
}

/// <summary>(namespace or null, allowWatchBookmarks, labelSelector, resourceVersion, timeoutSeconds, watch, ct) -> list response.</summary>
public delegate Task<HttpOperationResponse<TList>> ChildList<TList>(string? ns, bool? bookmarks, string labelSelector, string? resourceVersion, int? timeoutSeconds, bool watch, CancellationToken ct);
