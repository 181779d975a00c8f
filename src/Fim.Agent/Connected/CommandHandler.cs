using System.Text.Json;
using Fim.Contracts;
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

    /// <summary>
    /// The path as it is on disk now, examined under the first running policy whose scope covers it; null when none does
    /// (the live query answers only for monitored paths).
    /// </summary>
    (string Policy, Fim.Core.Scanning.Inspection Result)? Inspect(string path) => null;
}

/// <summary>
/// The request/reply protocol on fim.agent.&lt;agentId&gt;.cmd: an <see cref="AgentCommand"/> in, an <see cref="AgentReply"/>
/// out. Never throws: malformed input is answered with an error.
/// </summary>
public sealed class CommandHandler(IAgentControl agent, TimeProvider time)
{
    public byte[] Handle(ReadOnlySpan<byte> request)
    {
        AgentReply reply;
        try
        {
            reply = Dispatch(request);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            reply = AgentReply.Failure($"malformed request: {e.Message}");
        }
        return ContractJson.ToUtf8(reply);
    }

    private AgentReply Dispatch(ReadOnlySpan<byte> request)
    {
        if (request.Length == 0)
        {
            return AgentReply.Failure("empty request: send {\"command\":\"scan\"} or {\"command\":\"state\",\"path\":\"/etc/passwd\"}");
        }
        if (request.Length > AgentCommand.MaxBytes)
        {
            return AgentReply.Failure($"request too large ({request.Length} bytes, at most {AgentCommand.MaxBytes})");
        }
        if (JsonSerializer.Deserialize(request, ContractJson.Default.AgentCommand) is not { } command)
        {
            return AgentReply.Failure("malformed request: expected a JSON object with a string \"command\"");
        }
        switch (command.Command)
        {
            case AgentCommand.ScanName:
                return new AgentReply { Ok = true, Started = agent.RequestScan("command"), Time = time.GetUtcNow() };
            case AgentCommand.StateName:
                if (string.IsNullOrEmpty(command.Path))
                {
                    return AgentReply.Failure("state needs a string \"path\"");
                }
                if (agent.Find(command.Path) is not { } found)
                {
                    return AgentReply.Failure("not monitored");
                }
                return new AgentReply { Ok = true, Policy = found.Policy, Path = command.Path, State = EventRecords.StateOf(found.Record) };
            case AgentCommand.StatPathName:
                return StatPath(command.Path);
            case AgentCommand.RebaselineName:
                return AgentReply.Failure("rebaseline is accepted only on fim.agent.<agentId>.rebaseline (the operator's subject), not on the command subject");
            default:
                return AgentReply.Failure($"unknown command '{command.Command}'");
        }
    }

    private AgentReply StatPath(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return AgentReply.Failure("stat-path needs a string \"path\"");
        }
        if (!Fim.Core.Scanning.PathInspector.IsCanonical(System.Text.Encoding.UTF8.GetBytes(path)))
        {
            return AgentReply.Failure("path must be absolute, without empty, \".\" or \"..\" components");
        }
        if (agent.Inspect(path) is not { } found)
        {
            return AgentReply.Failure(NotUnderPolicy);
        }
        var (policy, result) = found;
        return result.Outcome switch
        {
            Fim.Core.Scanning.InspectionOutcome.Present => new AgentReply
            {
                Ok = true,
                Policy = policy,
                Path = path,
                Exists = true,
                State = EventRecords.StateOf(result.Record!),
                Time = time.GetUtcNow(),
            },
            Fim.Core.Scanning.InspectionOutcome.Absent => new AgentReply { Ok = true, Policy = policy, Path = path, Exists = false, Time = time.GetUtcNow() },
            _ => new AgentReply { Ok = false, Policy = policy, Path = path, Error = $"cannot examine the path: {result.Error}" },
        };
    }

    /// <summary>The answer for a path no running policy covers: the agent reads only what it monitors.</summary>
    public const string NotUnderPolicy = "path not under any policy";
}
