using System.Text.Json;

namespace Fim.Manager.Agents;

/// <summary>
/// An agent as the manager sees it: the last heartbeat in KV fim-agents. Only the fields the manager uses are read
/// (host, version, labels); the heartbeat is kept whole for the API. An unreadable heartbeat still makes the agent
/// known, with no labels.
/// </summary>
public sealed record AgentRecord(string AgentId, string Host, string Version, IReadOnlyDictionary<string, string> Labels, DateTimeOffset LastSeen, string HeartbeatJson)
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    /// <summary>What rules see of this agent (its labels), made once per heartbeat rather than once per event.</summary>
    public Fim.Core.Rules.AlertContext RuleContext { get; } = new(Labels, null, []);

    public static AgentRecord Parse(string agentId, ReadOnlySpan<byte> value, DateTimeOffset storedAt)
    {
        var json = System.Text.Encoding.UTF8.GetString(value);
        try
        {
            using var doc = JsonDocument.Parse(value.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new AgentRecord(agentId, "", "", NoLabels, storedAt, json);
            }
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("labels", out var l) && l.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in l.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String)
                    {
                        labels[p.Name] = p.Value.GetString()!;
                    }
                }
            }
            return new AgentRecord(agentId, Text(root, "host") ?? Text(root, "node") ?? "", Text(root, "version") ?? "", labels, storedAt, json);
        }
        catch (JsonException)
        {
            return new AgentRecord(agentId, "", "", NoLabels, storedAt, json);
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
