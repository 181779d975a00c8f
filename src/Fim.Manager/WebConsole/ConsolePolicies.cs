using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Fleet;
using Fim.Manager.Nats;
using Fim.Manager.Security;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.WebConsole;

/// <summary>One policy as the fleet runs it: its published revision and selector, the active agents it targets, and how many run it.</summary>
public sealed record PolicyState(
    string Name,
    long? Revision,
    string Selector,
    int Targeted,
    int Current,
    IReadOnlyList<(string Agent, long Revision)> Behind,
    IReadOnlyList<(string Agent, string Error)> Errors,
    string? Problem)
{
    /// <summary>Applied by agents from their own policy file: no FimPolicy publishes it.</summary>
    public bool Local => Revision is null && Problem is null;
}

/// <summary>
/// The policies page's rows: every document in KV fim-policies (what the operator publishes) whose namespace the user
/// may see, with the active agents it selects among those the user may see, which of them run its revision, which an
/// older one, and which report an error for it; plus the policies agents apply that no document publishes (local
/// policy files). A document that cannot be read is listed with why, not skipped.
/// </summary>
public sealed class ConsolePolicies(NatsConnector nats, AgentLifecycle lifecycle)
{
    public async Task<IReadOnlyList<PolicyState>> ListAsync(CallerAccess caller, CancellationToken cancellationToken)
    {
        var agents = lifecycle.List(AgentLifecycle.Active).Where(v => caller.SeesAgent(v.Agent) && v.Agent.Heartbeat is not null)
            .Select(v => v.Agent).ToList();
        var rows = new List<PolicyState>();
        var kv = await nats.KeyValueAsync(cancellationToken);
        var store = await kv.GetStoreAsync(Subjects.PoliciesBucket, cancellationToken);
        await foreach (var key in store.GetKeysAsync(cancellationToken: cancellationToken))
        {
            var entry = await store.TryGetEntryAsync(key, serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: cancellationToken);
            if (!entry.Success)
            {
                continue;
            }
            var (doc, problem) = Read(entry.Value.Value ?? []);
            var name = doc?.Name ?? key;
            if (!caller.Grants.Any(g => g.AllowsPolicy(name)))
            {
                continue;
            }
            var selector = doc is null ? null : Selector(doc);
            var targeted = selector is null ? [] : agents.Where(a => selector.Matches(a.Labels)).ToList();
            rows.Add(State(name, doc?.Revision, selector is null ? "" : Describe(selector), targeted, problem));
        }
        var published = rows.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var local in agents.SelectMany(a => a.Heartbeat!.AppliedPolicies.Keys).Where(p => !published.Contains(p)).Distinct(StringComparer.Ordinal))
        {
            if (caller.Grants.Any(g => g.AllowsPolicy(local)))
            {
                rows.Add(State(local, null, "", [.. agents.Where(a => a.Heartbeat!.AppliedPolicies.ContainsKey(local))], null));
            }
        }
        return [.. rows.OrderBy(r => r.Name, StringComparer.Ordinal)];
    }

    private static PolicyState State(string name, long? revision, string selector, List<Agents.AgentRecord> targeted, string? problem)
    {
        var applied = targeted.Where(a => a.Heartbeat!.AppliedPolicies.ContainsKey(name)).ToList();
        return new PolicyState(
            name,
            revision,
            selector,
            targeted.Count,
            applied.Count(a => revision is null || a.Heartbeat!.AppliedPolicies[name] == revision),
            [.. applied.Where(a => revision is not null && a.Heartbeat!.AppliedPolicies[name] != revision)
                .Select(a => (a.AgentId, a.Heartbeat!.AppliedPolicies[name])).OrderBy(a => a.AgentId, StringComparer.Ordinal)],
            [.. targeted.Where(a => a.Heartbeat!.PolicyErrors.ContainsKey(name))
                .Select(a => (a.AgentId, a.Heartbeat!.PolicyErrors[name])).OrderBy(a => a.AgentId, StringComparer.Ordinal)],
            problem);
    }

    private static (PolicyDocument? Doc, string? Problem) Read(byte[] value)
    {
        try
        {
            return JsonSerializer.Deserialize(value, ContractJson.Default.PolicyDocument) is { } doc
                ? (doc, doc.Selector?.Problem() is { } p ? $"selector: {p}" : null)
                : (null, "the value is not a policy document");
        }
        catch (JsonException e)
        {
            return (null, $"the value is not valid JSON for a policy document: {e.Message}");
        }
    }

    /// <summary>The document's selector; without one, the spec's own "selector" map (as the agent reads it), else every agent.</summary>
    private static LabelSelector Selector(PolicyDocument doc)
    {
        if (doc.Selector is { } selector)
        {
            return selector;
        }
        if (doc.Spec is { ValueKind: JsonValueKind.Object } spec && spec.TryGetProperty("selector", out var map) && map.ValueKind == JsonValueKind.Object)
        {
            return new LabelSelector
            {
                MatchLabels = map.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String)
                    .ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal),
            };
        }
        return LabelSelector.Everything;
    }

    public static string Describe(LabelSelector s)
    {
        var parts = (s.MatchLabels ?? new Dictionary<string, string>()).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")
            .Concat((s.MatchExpressions ?? []).Select(r => r.Operator switch
            {
                "Exists" => r.Key,
                "DoesNotExist" => "!" + r.Key,
                _ => $"{r.Key} {r.Operator.ToLowerInvariant()} ({string.Join(",", r.Values ?? [])})",
            }));
        var text = string.Join(", ", parts);
        return text.Length == 0 ? "every agent" : text;
    }
}
