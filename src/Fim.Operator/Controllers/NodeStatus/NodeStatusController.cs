using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Controllers.Policy;
using Fim.Operator.Runtime;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Fim.Operator.Controllers.NodeStatus;

/// <summary>Sends a re-baseline request to one agent (NATS request/reply on fim.agent.&lt;id&gt;.rebaseline).</summary>
public interface IAgentRebaseliner
{
    Task<AgentReply> RebaselineAsync(string agentId, AgentCommand command, CancellationToken ct);
}

public static class AgentRebaselining
{
    /// <summary>Null when the agent re-baselined the command's policy, else why not: no connection, its refusal, or no answer in time.</summary>
    public static async Task<string?> TryRebaselineAsync(this IAgentRebaseliner? rebaseliner, string agentId, AgentCommand command, TimeSpan timeout,
        CancellationToken ct)
    {
        if (rebaseliner is null)
        {
            return "no NATS connection to send the request on";
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            var reply = await rebaseliner.RebaselineAsync(agentId, command, deadline.Token);
            return reply.Ok && reply.Rebaselined?.Contains(command.Policy) == true ? null : reply.Error ?? "the agent did not re-baseline the policy";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"no answer within {timeout.TotalSeconds:0.#} s";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return e.Message;
        }
    }
}

public sealed record NodeStatusOptions
{
    /// <summary>Heartbeats, policies, nodes and statuses changing together give one pass at most this often.</summary>
    public TimeSpan Coalesce { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A pass also runs this often with nothing changed (stale heartbeats, failed writes).</summary>
    public TimeSpan Resync { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A node whose heartbeat is older than this, and for which no Node exists, loses its status.</summary>
    public TimeSpan AgentStaleAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one agent has to answer a re-baseline request.</summary>
    public TimeSpan RebaselineTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Writes in flight at once during a pass.</summary>
    public int Parallelism { get; init; } = 4;

    /// <summary>More transitions of one reason on one policy in one pass than this give one summary Event on the policy instead of one each.</summary>
    public int PolicyEventsPerReason { get; init; } = 5;
}

/// <summary>The node status controller's metrics; the gauge is derived from the stored FimNodeStatus objects (the informer's cache), so it survives restarts.</summary>
public static class NodeStatusMetrics
{
    public static readonly Gauge IntegrityFailed = Metrics.CreateGauge(
        "fim_node_integrity_failed", "1 while a node's FimNodeStatus for a policy says changed or error (from the stored objects; exported by the leader).", "node", "policy");

    public static readonly Counter Writes = Metrics.CreateCounter(
        "fim_operator_node_status_writes_total", "FimNodeStatus applies and deletes.", "operation");

    public static readonly Counter Rebaselines = Metrics.CreateCounter(
        "fim_operator_rebaselines_total", "Nodes asked to re-baseline, by outcome.", "result");
}

/// <summary>
/// Keeps one FimNodeStatus per (node, policy) from the agents' heartbeats: applied with server-side apply only when
/// the stored object does not already say it (nothing changing costs no request), deleted when the agent no longer
/// runs the policy, its heartbeat is gone, or its Node was deleted. Records Events on the FimPolicy and the Node when a
/// node's result changes, exports <see cref="NodeStatusMetrics.IntegrityFailed"/> from the stored objects, and carries
/// out the fim.io/rebaseline annotation. One coalesced pass over all inputs (like the policy recount): the inputs are
/// caches, so a pass costs memory reads; writes are bounded by <see cref="NodeStatusOptions.Parallelism"/>.
/// </summary>
public sealed class NodeStatusController(
    IKubernetes client,
    Informer<FimPolicy, CustomResourceList<FimPolicy>> policies,
    Informer<FimNodeStatus, CustomResourceList<FimNodeStatus>> statuses,
    Informer<V1Node, V1NodeList>? nodes,
    IAgentDirectory agents,
    IAgentRebaseliner? rebaseliner,
    IUnreviewedAlertCounts? unreviewed,
    string instance,
    NodeStatusOptions options,
    ILogger logger)
{
    public const string RebaselineAnnotation = "fim.io/rebaseline";
    public const string FieldManager = "fim-operator";
    private const string Component = "fim-operator";

    private int _dirty = 1;
    private readonly EventRecorder _recorder = new(client, Component, instance, logger);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _goneNodes = new();
    // key -> (applied JSON, the stored resourceVersion it replaced): a cache that has not caught up with our own write is not written again.
    private readonly ConcurrentDictionary<string, (string Json, string? Replaced)> _written = new();
    private readonly ConcurrentDictionary<string, byte> _rebaselining = new();

    // Integrity Events are sent after the pass's status writes, by one task of their own: under the API rate limit a burst
    // of transitions must not delay the statuses (the Events say the same thing, later).
    private readonly System.Threading.Channels.Channel<Func<CancellationToken, Task>> _events =
        System.Threading.Channels.Channel.CreateBounded<Func<CancellationToken, Task>>(new System.Threading.Channels.BoundedChannelOptions(20_000)
        {
            FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        });

    private sealed record Transition(FimPolicy Policy, FimNodeStatus Status, string? Before);

    /// <summary>Whether this controller runs the Node informer (false when another controller that shares it does).</summary>
    public bool RunsNodeInformer { get; init; } = true;

    /// <summary>Passes run so far (tests).</summary>
    public int Passes { get; private set; }

    public void MarkDirty() => Interlocked.Exchange(ref _dirty, 1);

    public async Task RunAsync(CancellationToken ct)
    {
        void OnAgents() => MarkDirty();
        agents.Changed += OnAgents;
        policies.Changed += OnPolicy;
        statuses.Changed += OnStatus;
        if (nodes is not null)
        {
            nodes.Changed += OnNode;
        }

        if (unreviewed is not null)
        {
            unreviewed.Changed += OnAgents;
        }

        var informers = new List<Task> { statuses.RunAsync(ct), SendEventsAsync(ct) };
        if (nodes is not null && RunsNodeInformer)
        {
            informers.Add(nodes.RunAsync(ct));
        }

        try
        {
            await Task.WhenAll(policies.Synced, statuses.Synced, nodes?.Synced ?? Task.CompletedTask).WaitAsync(ct);
            foreach (var s in statuses.Items)
            {
                Gauge(s);
            }

            using var timer = new PeriodicTimer(options.Coalesce);
            var lastPass = DateTimeOffset.MinValue;
            while (await timer.WaitForNextTickAsync(ct))
            {
                if (Interlocked.Exchange(ref _dirty, 0) == 0 && DateTimeOffset.UtcNow - lastPass < options.Resync)
                {
                    continue;
                }

                lastPass = DateTimeOffset.UtcNow;
                try
                {
                    await PassAsync(ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("node status pass failed: {Error}; retrying", e.Message);
                    MarkDirty();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            agents.Changed -= OnAgents;
            policies.Changed -= OnPolicy;
            statuses.Changed -= OnStatus;
            if (nodes is not null)
            {
                nodes.Changed -= OnNode;
            }

            if (unreviewed is not null)
            {
                unreviewed.Changed -= OnAgents;
            }

            // A standby exports nothing: the new leader derives the gauge from the stored objects again.
            foreach (var labels in NodeStatusMetrics.IntegrityFailed.GetAllLabelValues().ToList())
            {
                NodeStatusMetrics.IntegrityFailed.RemoveLabelled(labels);
            }

            try
            {
                await Task.WhenAll(informers);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private void OnPolicy(WatchEventType type, FimPolicy? old, FimPolicy policy) => MarkDirty();

    private void OnNode(WatchEventType type, V1Node? old, V1Node node)
    {
        if (type == WatchEventType.Deleted)
        {
            _goneNodes[node.Metadata.Name] = DateTimeOffset.UtcNow;
        }
        else
        {
            _goneNodes.TryRemove(node.Metadata.Name, out _);
        }

        MarkDirty();
    }

    private void OnStatus(WatchEventType type, FimNodeStatus? old, FimNodeStatus status)
    {
        if (type == WatchEventType.Deleted)
        {
            NodeStatusMetrics.IntegrityFailed.RemoveLabelled(status.Spec.Node, PolicyLabel(status));
        }
        else
        {
            Gauge(status);
        }

        MarkDirty();
    }

    private static string PolicyLabel(FimNodeStatus s) => Subjects.PolicyName(s.Metadata.NamespaceProperty ?? "default", s.Spec.Policy);

    private static void Gauge(FimNodeStatus s) =>
        NodeStatusMetrics.IntegrityFailed.WithLabels(s.Spec.Node, PolicyLabel(s)).Set(NodeStatusCalculator.Failed(s.Status?.Result) ? 1 : 0);

    /// <summary>One pass: desired statuses from heartbeats x policies, applied or deleted where the store differs; annotations carried out.</summary>
    public async Task PassAsync(CancellationToken ct)
    {
        Passes++;
        var now = DateTimeOffset.UtcNow;
        var desired = new Dictionary<string, (FimPolicy Policy, FimNodeStatus Status)>(StringComparer.Ordinal);
        var byName = new Dictionary<string, FimPolicy>(StringComparer.Ordinal);
        foreach (var policy in policies.Items)
        {
            if (policy.Metadata.DeletionTimestamp is null)
            {
                byName[Subjects.PolicyName(policy.Metadata.NamespaceProperty ?? "default", policy.Metadata.Name)] = policy;
            }
        }

        foreach (var hb in agents.Agents)
        {
            var node = nodes?.Get(hb.AgentId);
            var fresh = now - hb.Time <= options.AgentStaleAfter;
            if (node is null && (!fresh || _goneNodes.TryGetValue(hb.AgentId, out var gone) && hb.Time <= gone))
            {
                continue;
            }

            foreach (var p in hb.Policies)
            {
                if (byName.TryGetValue(p.Name, out var policy))
                {
                    var status = NodeStatusCalculator.Desired(policy, hb, p, node, unreviewed?.CountOf(hb.AgentId));
                    desired[ResourceKey.Of(status)] = (policy, status);
                }
            }
        }

        var work = new List<Func<Task>>();
        var transitions = new ConcurrentBag<Transition>();
        foreach (var (key, (policy, status)) in desired)
        {
            var stored = statuses.Get(key);
            if (NodeStatusCalculator.Same(stored, status))
            {
                _written.TryRemove(key, out _);
                continue;
            }

            var json = KubernetesJson.Serialize(status);
            if (_written.TryGetValue(key, out var w) && w.Json == json && w.Replaced == stored?.Metadata.ResourceVersion)
            {
                continue; // our write is not in the cache yet
            }

            work.Add(() => ApplyAsync(key, policy, stored, status, json, transitions, ct));
        }

        foreach (var stored in statuses.Items)
        {
            var key = ResourceKey.Of(stored);
            if (!desired.ContainsKey(key))
            {
                work.Add(() => DeleteAsync(key, stored, ct));
            }
        }

        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = ct }, async (w, _) =>
        {
            try
            {
                await w();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("node status write failed: {Error}; retrying", e.Message);
                MarkDirty();
            }
        });

        QueueIntegrityEvents(transitions);
        foreach (var policy in byName.Values)
        {
            if (policy.Metadata.Annotations?.TryGetValue(RebaselineAnnotation, out var value) == true
                && _rebaselining.TryAdd($"{policy.Metadata.Uid}/{value}", 0))
            {
                _ = Task.Run(() => RebaselineAsync(policy, value, ct), CancellationToken.None);
            }
        }
    }

    private async Task ApplyAsync(string key, FimPolicy policy, FimNodeStatus? stored, FimNodeStatus status, string json, ConcurrentBag<Transition> transitions, CancellationToken ct)
    {
        var (ns, name) = ResourceKey.Split(key);
        var written = await client.CustomObjects.PatchNamespacedCustomObjectAsync<FimNodeStatus>(
            new V1Patch(json, V1Patch.PatchType.ApplyPatch), FimApi.Group, FimApi.Version, ns, FimNodeStatus.Plural, name, fieldManager: FieldManager, force: true, cancellationToken: ct);
        NodeStatusMetrics.Writes.WithLabels("apply").Inc();
        _written[key] = (json, stored?.Metadata.ResourceVersion);
        var before = stored?.Status?.Result;
        var after = status.Status!.Result;
        if (before != after && !(before is null && after == FimNodeStatusReport.ResultClean))
        {
            transitions.Add(new Transition(policy, status, before));
        }
    }

    private async Task SendEventsAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var send in _events.Reader.ReadAllAsync(ct))
            {
                await send(ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// One Event per node on the Node; on the policy one per node too, unless more than
    /// <see cref="NodeStatusOptions.PolicyEventsPerReason"/> nodes made the same transition in this pass: then one
    /// summary naming how many and the first of them.
    /// </summary>
    private void QueueIntegrityEvents(IEnumerable<Transition> transitions)
    {
        foreach (var group in transitions.GroupBy(t => (t.Policy.Metadata.Uid, t.Status.Status!.Result)))
        {
            var list = group.OrderBy(t => t.Status.Spec.Node, StringComparer.Ordinal).ToList();
            var summarize = list.Count > options.PolicyEventsPerReason;
            foreach (var t in list)
            {
                Queue(ct => IntegrityEventAsync(t.Policy, t.Status, t.Before, onPolicy: !summarize, ct));
            }

            if (summarize)
            {
                var first = list[0];
                var (type, reason, _) = Describe(first.Policy, first.Status, first.Before);
                var message = $"{list.Count} nodes, policy {PolicyName(first.Policy)}: {first.Status.Status!.Result}: "
                    + string.Join(", ", list.Take(20).Select(t => t.Status.Spec.Node)) + (list.Count > 20 ? ", ..." : "")
                    + " (kubectl get fimnodestatuses -l fim.io/policy=" + first.Policy.Metadata.Name + ")";
                Queue(ct => RecordAsync(PolicyRef(first.Policy), first.Policy.Metadata.NamespaceProperty ?? "default", type, reason, message, ct));
            }
        }

        void Queue(Func<CancellationToken, Task> send)
        {
            if (!_events.Writer.TryWrite(send))
            {
                logger.LogWarning("too many integrity Events waiting: one dropped (the FimNodeStatus objects and the gauge still say it)");
            }
        }
    }

    private static string PolicyName(FimPolicy p) => Subjects.PolicyName(p.Metadata.NamespaceProperty ?? "default", p.Metadata.Name);

    private async Task DeleteAsync(string key, FimNodeStatus stored, CancellationToken ct)
    {
        var (ns, name) = ResourceKey.Split(key);
        try
        {
            await client.CustomObjects.DeleteNamespacedCustomObjectAsync(FimApi.Group, FimApi.Version, ns, FimNodeStatus.Plural, name, cancellationToken: ct);
            NodeStatusMetrics.Writes.WithLabels("delete").Inc();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
        }

        _written.TryRemove(key, out _);
        logger.LogInformation("FimNodeStatus {Key} deleted: node {Node} no longer runs policy {Policy} (or is gone)", key, stored.Spec.Node, stored.Spec.Policy);
    }

    /// <summary>Reasons (docs/operator.md): IntegrityChanged, IntegrityError (Warning), IntegrityRestored (Normal).</summary>
    private async Task IntegrityEventAsync(FimPolicy policy, FimNodeStatus status, string? before, bool onPolicy, CancellationToken ct)
    {
        var (type, reason, message) = Describe(policy, status, before);
        var node = status.Spec.Node;
        logger.LogInformation("{Reason}: {Message}", reason, message);
        if (onPolicy)
        {
            await RecordAsync(PolicyRef(policy), policy.Metadata.NamespaceProperty ?? "default", type, reason, message, ct);
        }

        if (nodes?.Get(node) is { } n)
        {
            await RecordAsync(NodeRef(n), "default", type, reason, message, ct);
        }
    }

    private static (string Type, string Reason, string Message) Describe(FimPolicy policy, FimNodeStatus status, string? before)
    {
        var s = status.Status!;
        var node = status.Spec.Node;
        var policyName = PolicyName(policy);
        return s.Result switch
        {
            FimNodeStatusReport.ResultChanged => ("Warning", "IntegrityChanged",
                $"node {node}, policy {policyName}: {s.Added} added, {s.Changed} changed, {s.Removed} removed since the baseline accepted at {s.BaselineAcceptedAt}"),
            FimNodeStatusReport.ResultError => ("Warning", "IntegrityError", $"node {node}, policy {policyName}: {s.Message ?? "the policy failed on the agent"}"),
            FimNodeStatusReport.ResultClean => ("Normal", "IntegrityRestored", $"node {node}, policy {policyName}: no drift since the baseline accepted at {s.BaselineAcceptedAt}"
                + (s.BaselineAcceptedBy is { } by ? $" by {by}" : "") + $" (was {before ?? "unknown"})"),
            _ => ("Normal", "IntegrityUnknown", $"node {node}, policy {policyName}: the agent does not report drift (version {s.AgentVersion})"),
        };
    }

    /// <summary>Carries out fim.io/rebaseline on one policy, then records who asked, the outcome, and clears the annotation.</summary>
    private async Task RebaselineAsync(FimPolicy policy, string value, CancellationToken ct)
    {
        var ns = policy.Metadata.NamespaceProperty ?? "default";
        var policyName = Subjects.PolicyName(ns, policy.Metadata.Name);
        try
        {
            var requester = NodeStatusCalculator.RequesterOf(policy.Metadata.ManagedFields)
                ?? "unknown (the API server sent no managedFields entry for the annotation)";
            var mine = statuses.Items.Where(s => s.Metadata.NamespaceProperty == ns && s.Spec.Policy == policy.Metadata.Name).ToList();
            var problem = NodeStatusCalculator.ParseSelection(value, out var listed);
            var failed = new List<string>();
            List<string> selected;
            if (problem is not null)
            {
                await RecordAsync(PolicyRef(policy), ns, "Warning", "RebaselineInvalid", problem, ct);
                logger.LogWarning("policy {Policy}: {Problem}", policyName, problem);
                selected = [];
                failed.Add(problem);
            }
            else if (listed is null)
            {
                selected = [.. mine.Where(s => value.Trim() != "failed" || NodeStatusCalculator.Failed(s.Status?.Result)).Select(s => s.Spec.Node).Order(StringComparer.Ordinal)];
            }
            else
            {
                var known = mine.Select(s => s.Spec.Node).ToHashSet(StringComparer.Ordinal);
                selected = [.. listed.Where(known.Contains)];
                failed.AddRange(listed.Where(n => !known.Contains(n)).Select(n => $"{n}: no FimNodeStatus for this policy (the node does not run it)"));
            }

            var requestId = $"{policy.Metadata.Uid}/{Guid.NewGuid():N}";
            var done = new ConcurrentBag<string>();
            await Parallel.ForEachAsync(selected, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (node, token) =>
            {
                var why = await rebaseliner.TryRebaselineAsync(node, AgentCommand.Rebaseline(policyName, requestId, requester), options.RebaselineTimeout, token);
                if (why is null)
                {
                    done.Add(node);
                    NodeStatusMetrics.Rebaselines.WithLabels("done").Inc();
                }
                else
                {
                    lock (failed)
                    {
                        failed.Add($"{node}: {why}");
                    }

                    NodeStatusMetrics.Rebaselines.WithLabels("failed").Inc();
                }
            });

            var rebaselined = done.Order(StringComparer.Ordinal).ToList();
            var audit = $"{rebaselined.Count} of {selected.Count} nodes re-baselined ({string.Join(", ", rebaselined)}) at the request of {requester} "
                + $"({RebaselineAnnotation}=\"{value}\", request {requestId})";
            logger.LogWarning("policy {Policy}: {Audit}{Failures}", policyName, audit, failed.Count > 0 ? "; failed: " + string.Join("; ", failed) : "");
            if (problem is null)
            {
                await RecordAsync(PolicyRef(policy), ns, "Normal", "Rebaselined", audit, ct);
            }

            if (failed.Count > 0 && problem is null)
            {
                await RecordAsync(PolicyRef(policy), ns, "Warning", "RebaselineFailed", string.Join("; ", failed), ct);
            }

            foreach (var node in rebaselined)
            {
                if (nodes?.Get(node) is { } n)
                {
                    await RecordAsync(NodeRef(n), "default", "Normal", "Rebaselined", $"policy {policyName}: current state accepted as the new baseline at the request of {requester}", ct);
                }
            }

            var status = new JsonObject
            {
                ["status"] = new JsonObject
                {
                    ["lastRebaseline"] = new JsonObject
                    {
                        ["selection"] = value,
                        ["requestedBy"] = requester,
                        ["time"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                        ["selected"] = selected.Count,
                        ["rebaselined"] = rebaselined.Count,
                        ["failed"] = new JsonArray([.. failed.Select(f => (JsonNode)JsonValue.Create(f.Length > 256 ? f[..256] : f))]),
                    },
                },
            };
            await client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
                new V1Patch(status.ToJsonString(), V1Patch.PatchType.MergePatch), FimApi.Group, FimApi.Version, ns, FimPolicy.Plural, policy.Metadata.Name, cancellationToken: ct);

            // Cleared only while it still holds the value carried out: a new request set meanwhile is left for the next pass.
            var path = "/metadata/annotations/" + RebaselineAnnotation.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
            var clear = new JsonArray(
                new JsonObject { ["op"] = "test", ["path"] = path, ["value"] = value },
                new JsonObject { ["op"] = "remove", ["path"] = path });
            try
            {
                await client.CustomObjects.PatchNamespacedCustomObjectAsync(
                    new V1Patch(clear.ToJsonString(), V1Patch.PatchType.JsonPatch), FimApi.Group, FimApi.Version, ns, FimPolicy.Plural, policy.Metadata.Name, cancellationToken: ct);
            }
            catch (HttpOperationException e) when ((int)e.Response.StatusCode is 409 or 422 or 404)
            {
                logger.LogInformation("policy {Policy}: {Annotation} changed while it was carried out; the new value is carried out next", policyName, RebaselineAnnotation);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("policy {Policy}: carrying out {Annotation}={Value} failed: {Error}; retrying", policyName, RebaselineAnnotation, value, e.Message);
            await Task.Delay(TimeSpan.FromSeconds(2), ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            _rebaselining.TryRemove($"{policy.Metadata.Uid}/{value}", out _);
            MarkDirty();
        }
    }


    private static V1ObjectReference PolicyRef(FimPolicy p) => new()
    {
        ApiVersion = FimApi.ApiVersion,
        Kind = FimPolicy.KindName,
        Name = p.Metadata.Name,
        NamespaceProperty = p.Metadata.NamespaceProperty,
        Uid = p.Metadata.Uid,
    };

    private static V1ObjectReference NodeRef(V1Node n) => new() { ApiVersion = "v1", Kind = "Node", Name = n.Metadata.Name, Uid = n.Metadata.Uid };

    /// <summary>A core/v1 Event; cluster-scoped objects (Nodes) get theirs in "default", as the kubelet's are. Best effort.</summary>
    private Task RecordAsync(V1ObjectReference regarding, string ns, string type, string reason, string message, CancellationToken ct) =>
        _recorder.RecordAsync(regarding, ns, type, reason, message, ct);
}
