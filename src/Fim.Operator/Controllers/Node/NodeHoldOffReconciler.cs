using System.Security.Cryptography;
using System.Text;
using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Controllers.NodeStatus;
using Fim.Operator.Controllers.Policy;
using Fim.Operator.Runtime;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Fim.Operator.Controllers.Node;

/// <summary>What the policies covering a node's agent say about its hold-off, and which of them re-baseline on return.</summary>
public sealed record HoldOffSetting(int LevelReduction, string? OnEnd, IReadOnlyList<string> Policies, IReadOnlyList<string> RebaselineOnReturn);

/// <summary>
/// Node maintenance hold-off. A node that is cordoned (spec.unschedulable) or carries the annotation fim.io/maintenance,
/// and whose agent a FimPolicy with spec.nodeMaintenance covers, gets a maintenance window in KV fim-maintenance for its
/// agent only (agent id = the node name as the agent derives it): the agent keeps detecting and recording, and the
/// managers lower and tag its alerts as for any window. When the node comes back the operator ends the window; a window
/// that asks for a summary (onReturn summary) is then summarized by a manager (what changed, to the webhook sink), and the
/// policies with onReturn rebaseline are re-baselined on the node's agent (the fim.io/rebaseline request). Events
/// on the Node say when the hold-off began and ended. The window lives in KV, so a restarted operator finds it again.
/// </summary>
public sealed class NodeHoldOffReconciler(
    IKubernetes client,
    IMaintenanceWindowStore windows,
    Func<IEnumerable<FimPolicy>> policies,
    IAgentDirectory agents,
    string instance,
    ILogger logger,
    TimeProvider? time = null,
    IAgentRebaseliner? rebaseliner = null) : IReconciler<V1Node>
{
    public const string MaintenanceAnnotation = "fim.io/maintenance";
    public const string By = "fim-operator";

    /// <summary>A window is written for this long and extended while the node stays held.</summary>
    public static readonly TimeSpan WindowLength = TimeSpan.FromDays(7);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly EventRecorder _events = new(client, By, instance, logger);

    public async Task<ReconcileResult> ReconcileAsync(string key, V1Node? node, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        var open = (await windows.ListAsync(ct)).Where(w => w.Window.Node == key && w.Window.ClosesAt > now).ToList();
        var reason = node is null || node.Metadata.DeletionTimestamp is not null ? null : HoldReason(node);
        var setting = reason is null ? null : Setting(node!);
        if (reason is not null && setting is not null)
        {
            if (open.Count == 0)
            {
                var w = new MaintenanceWindow
                {
                    Id = "mw-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
                    Start = now,
                    End = now + WindowLength,
                    Reason = reason,
                    LevelReduction = setting.LevelReduction,
                    CreatedBy = By,
                    CreatedAt = now,
                    AgentIds = [AgentId(key)],
                    Node = key,
                    OnEnd = setting.OnEnd,
                };
                await windows.CreateAsync(w, ct);
                logger.LogInformation("node {Node}: hold-off began ({Reason}), window {Window} lowers alerts by {Reduction}", key, reason, w.Id, w.LevelReduction);
                await NodeEventAsync(node!, "Normal", "MaintenanceHoldOff",
                    $"{reason}: agent {AgentId(key)}'s alerts lowered by {w.LevelReduction} and tagged {MaintenanceWindow.Tag(w.Id)} (policies {string.Join(", ", setting.Policies)}); on return: {setting.OnEnd ?? "nothing"}", ct);
            }
            else if (open.OrderBy(w => w.Window.Start).First() is var current && current.Window.End - now < WindowLength / 7)
            {
                current.Window.End = now + WindowLength;
                await windows.UpdateAsync(current.Window, current.Revision, ct);
            }

            return ReconcileResult.After(TimeSpan.FromHours(1));
        }

        foreach (var w in open)
        {
            w.Window.EndedAt = now < w.Window.Start ? w.Window.Start : now;
            w.Window.EndedBy = By;
            await windows.UpdateAsync(w.Window, w.Revision, ct);
            logger.LogInformation("node {Node}: hold-off ended, window {Window} closed", key, w.Window.Id);
            if (node is not null)
            {
                await NodeEventAsync(node, "Normal", "MaintenanceReturn",
                    $"node back from maintenance: window {w.Window.Id} closed" + (w.Window.OnEnd == MaintenanceWindow.OnEndSummary ? "; a manager sends the summary" : ""), ct);
            }
        }
        if (open.Count > 0 && node is not null && Setting(node) is { RebaselineOnReturn.Count: > 0 } back)
        {
            await RebaselineAsync(node, back.RebaselineOnReturn, string.Join(", ", open.Select(w => w.Window.Id)), ct);
        }

        return ReconcileResult.Done;
    }

    /// <summary>
    /// onReturn rebaseline: the node's agent accepts what the maintenance left as each policy's baseline, over the same
    /// request as fim.io/rebaseline (the agent records who asked: this operator, for the window). A failure is a Warning
    /// Event naming the policy and why; the window is closed either way, so the drift stays visible in FimNodeStatus.
    /// </summary>
    private async Task RebaselineAsync(V1Node node, IReadOnlyList<string> policies, string windowIds, CancellationToken ct)
    {
        var agent = AgentId(node.Metadata.Name);
        foreach (var policy in policies)
        {
            var command = AgentCommand.Rebaseline(policy, "holdoff-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
                $"{By} (node maintenance ended, window {windowIds})");
            var failure = await rebaseliner.TryRebaselineAsync(agent, command, RebaselineTimeout, ct);
            logger.LogInformation("node {Node}: re-baseline of {Policy} on return from maintenance: {Result}", node.Metadata.Name, policy, failure ?? "done");
            await NodeEventAsync(node, failure is null ? "Normal" : "Warning", failure is null ? "MaintenanceRebaselined" : "MaintenanceRebaselineFailed",
                failure is null
                    ? $"back from maintenance: agent {agent} accepted its state as {policy}'s baseline (window {windowIds})"
                    : $"back from maintenance: agent {agent} did not re-baseline {policy}: {failure}", ct);
        }
    }

    /// <summary>How long an agent has to answer a re-baseline request on the node's return.</summary>
    public static readonly TimeSpan RebaselineTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Why the node is held, or null when it is not (neither cordoned nor annotated).</summary>
    public static string? HoldReason(V1Node node)
    {
        if (node.Metadata.Annotations?.TryGetValue(MaintenanceAnnotation, out var note) == true)
        {
            return $"node {node.Metadata.Name} annotated {MaintenanceAnnotation}" + (string.IsNullOrWhiteSpace(note) ? "" : $": {note}");
        }

        return node.Spec?.Unschedulable == true ? $"node {node.Metadata.Name} cordoned" : null;
    }

    /// <summary>The hold-off the policies covering the node's agent ask for; null when none does.</summary>
    public HoldOffSetting? Setting(V1Node node)
    {
        var id = AgentId(node.Metadata.Name);
        var labels = agents.Agents.FirstOrDefault(h => h.AgentId == id)?.Labels
            ?? (IReadOnlyDictionary<string, string>?)node.Metadata.Labels ?? new Dictionary<string, string>();
        var covering = policies()
            .Where(p => p.Metadata.DeletionTimestamp is null && p.Spec.NodeMaintenance is { HoldOff: not false })
            .Where(p => (p.Spec.Selector?.ToLabelSelector() ?? LabelSelector.Everything).Matches(labels))
            .OrderBy(p => ResourceKey.Of(p), StringComparer.Ordinal)
            .ToList();
        if (covering.Count == 0)
        {
            return null;
        }

        return new HoldOffSetting(
            covering.Max(p => p.Spec.NodeMaintenance!.LevelReduction ?? 5),
            covering.Any(p => (p.Spec.NodeMaintenance!.OnReturn ?? FimNodeMaintenance.Summary) == FimNodeMaintenance.Summary) ? MaintenanceWindow.OnEndSummary : null,
            [.. covering.Select(p => ResourceKey.Of(p))],
            [.. covering.Where(p => p.Spec.NodeMaintenance!.OnReturn == FimNodeMaintenance.Rebaseline).Select(p => Subjects.PolicyName(p.Metadata.NamespaceProperty, p.Metadata.Name))]);
    }

    /// <summary>The agent id a node's agent takes by default (NODE_NAME lower-cased, other characters to '-'), as fim-agent derives it.</summary>
    public static string AgentId(string nodeName)
    {
        var sb = new StringBuilder(nodeName.Length);
        foreach (var c in nodeName.Trim().ToLowerInvariant())
        {
            sb.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' ? c : '-');
        }

        var id = sb.ToString().Trim('-');
        return id.Length > 128 ? id[..128] : id.Length == 0 ? "agent" : id;
    }

    /// <summary>Events about a node live in namespace default (as the kubelet's do); best effort.</summary>
    private Task NodeEventAsync(V1Node node, string type, string reason, string message, CancellationToken ct) =>
        _events.RecordAsync(new V1ObjectReference { ApiVersion = "v1", Kind = "Node", Name = node.Metadata.Name, Uid = node.Metadata.Uid }, "default",
            type, reason, message, ct);
}
