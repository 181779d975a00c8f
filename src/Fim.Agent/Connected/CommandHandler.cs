using System.Text.Json;
using System.Text.Json.Nodes;
using Fim.Core.Events;
using Fim.Core.Model;

namespace Fim.Agent.Connected;

/// <summary>What the command protocol needs from the running agent.</summary>
public interface IAgentControl
{
    /// <summary>Asks every running policy for a full rescan; the names of those that started one.</summary>
    IReadOnlyList<string> RequestScan(string reason);

    /// <summary>The baseline record of a path and its policy, or null when no running policy monitors it.</summary>
    (string Policy, FileRecord Record)? Find(string path);
}

/// <summary>
/// The request/reply protocol on fim.agent.&lt;agentId&gt;.cmd: a JSON object with "command" in, a JSON object with
/// "ok" out. Never throws: malformed input is answered with an error.
/// </summary>
public sealed class CommandHandler(IAgentControl agent, TimeProvider time)
{
    public const int MaxRequestBytes = 64 * 1024;

    public byte[] Handle(ReadOnlySpan<byte> request)
    {
        JsonObject reply;
        try
        {
            reply = Dispatch(request);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            reply = Error($"malformed request: {e.Message}");
        }
        return JsonSerializer.SerializeToUtf8Bytes(reply);
    }

    private JsonObject Dispatch(ReadOnlySpan<byte> request)
    {
        if (request.Length == 0)
        {
            return Error("empty request: send {\"command\":\"scan\"} or {\"command\":\"state\",\"path\":\"/etc/passwd\"}");
        }
        if (request.Length > MaxRequestBytes)
        {
            return Error($"request too large ({request.Length} bytes, at most {MaxRequestBytes})");
        }
        var node = JsonNode.Parse(request);
        if (node is not JsonObject obj || obj["command"] is not JsonValue commandValue || !commandValue.TryGetValue<string>(out var command))
        {
            return Error("malformed request: expected a JSON object with a string \"command\"");
        }
        switch (command)
        {
            case "scan":
                var started = agent.RequestScan("command");
                return new JsonObject
                {
                    ["ok"] = true,
                    ["started"] = new JsonArray([.. started.Select(s => (JsonNode?)JsonValue.Create(s))]),
                    ["time"] = time.GetUtcNow(),
                };
            case "state":
                if (obj["path"] is not JsonValue pathValue || !pathValue.TryGetValue<string>(out var path) || path.Length == 0)
                {
                    return Error("state needs a string \"path\"");
                }
                if (agent.Find(path) is not { } found)
                {
                    return Error("not monitored");
                }
                return new JsonObject
                {
                    ["ok"] = true,
                    ["policy"] = found.Policy,
                    ["path"] = path,
                    ["state"] = JsonSerializer.SerializeToNode(FileState.From(found.Record), EventJson.Options),
                };
            default:
                return Error($"unknown command '{command}'");
        }
    }

    private static JsonObject Error(string message) => new() { ["ok"] = false, ["error"] = message };
}
