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
            default:
                return AgentReply.Failure($"unknown command '{command.Command}'");
        }
    }
}
