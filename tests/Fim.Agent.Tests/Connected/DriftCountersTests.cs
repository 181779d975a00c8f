using System.Text;
using System.Text.Json;
using Fim.Agent.Connected;
using Fim.Contracts;
using Fim.Core.Model;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fim.Agent.Tests.Connected;

/// <summary>Issue 18: the drift since the accepted baseline survives a restart and only a re-baseline on the operator's subject resets it.</summary>
public sealed class DriftCountersTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("fim-drift-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static FileChange Change(ChangeKind kind, string file = "/etc/x")
    {
        var path = PathBytes.FromString(file);
        var record = new FileRecord { Path = path, Type = FileType.Regular };
        return new FileChange(kind, path, kind == ChangeKind.Added ? null : record, kind == ChangeKind.Deleted ? null : record, ChangedAttributes.Size,
            DetectionSource.Realtime, DateTimeOffset.UtcNow, "p");
    }

    [Fact]
    public void Counts_by_kind_survive_a_restart_and_reset_only_on_a_new_rebaseline_request()
    {
        var store = Path.Combine(_dir.FullName, "default.pci");
        var drift = new DriftCounters(TimeProvider.System, NullLogger<DriftCounters>.Instance);
        drift.Open("default/pci", store);
        Assert.Equal(0, drift.Get("default/pci")!.Total);
        // Net change per file since the baseline: added then modified is added; modified twice is one change;
        // added then removed is nothing; modified then removed is removed; removed then re-created is changed.
        drift.Count("default/pci", [Change(ChangeKind.Added, "/etc/new"), Change(ChangeKind.Modified, "/etc/new"),
            Change(ChangeKind.Modified, "/etc/a"), Change(ChangeKind.Attributes, "/etc/a"),
            Change(ChangeKind.Added, "/etc/tmp"), Change(ChangeKind.Deleted, "/etc/tmp"),
            Change(ChangeKind.Modified, "/etc/b"), Change(ChangeKind.Deleted, "/etc/b"),
            Change(ChangeKind.BaselineReset, "/var/lib/fim")]);
        drift.Count("default/pci", [Change(ChangeKind.Deleted, "/etc/c"), Change(ChangeKind.Deleted, "/etc/d")]);
        drift.Count("default/pci", [Change(ChangeKind.Added, "/etc/c")]);
        Assert.Equal((1, 2, 2), (drift.Get("default/pci")!.Added, drift.Get("default/pci")!.Changed, drift.Get("default/pci")!.Removed));

        // A new process reads what the last one counted.
        var restarted = new DriftCounters(TimeProvider.System, NullLogger<DriftCounters>.Instance);
        restarted.Open("default/pci", store);
        Assert.Equal(5, restarted.Get("default/pci")!.Total);
        restarted.Count("default/pci", [Change(ChangeKind.Modified, "/etc/new")]);
        Assert.Equal(5, restarted.Get("default/pci")!.Total); // the paths were kept too: still one added file

        Assert.Equal(["default/pci"], restarted.Rebaseline("default/pci", "req-1", "alice"));
        Assert.Equal(new HeartbeatDrift(0, 0, 0, restarted.Get("default/pci")!.Since, "req-1", "alice"), restarted.Get("default/pci"));
        restarted.Count("default/pci", [Change(ChangeKind.Modified)]);
        // The same request again (a retry) must not hide the drift found since.
        restarted.Rebaseline("default/pci", "req-1", "alice");
        Assert.Equal(1, restarted.Get("default/pci")!.Changed);
        Assert.Empty(restarted.Rebaseline("default/other", "req-2", "alice"));
    }

    [Fact]
    public void The_responder_needs_the_rebaseline_command_a_request_id_and_a_requester_and_names_a_policy_that_is_not_running()
    {
        var drift = new DriftCounters(TimeProvider.System, NullLogger<DriftCounters>.Instance);
        drift.Open("default/pci", Path.Combine(_dir.FullName, "default.pci"));
        var responder = new RebaselineResponder(null!, new AgentIdentity("node-1", "node-1", new Dictionary<string, string>()), drift, new AgentStatus(), null!,
            TimeProvider.System, NullLogger<RebaselineResponder>.Instance);
        Assert.Equal("fim.agent.node-1.rebaseline", responder.Subject);

        Assert.Contains("expected {\"command\":\"rebaseline\"", responder.Handle("""{"command":"scan"}"""u8).Error);
        Assert.Contains("malformed request", responder.Handle("{"u8).Error);
        Assert.Equal("rebaseline needs a string \"requestId\" and a string \"requestedBy\"", responder.Handle("""{"command":"rebaseline"}"""u8).Error);
        Assert.Equal("policy 'default/gone' is not running on this agent",
            responder.Handle(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(AgentCommand.Rebaseline("default/gone", "r", "bob"), ContractJson.Default.AgentCommand))).Error);
        var ok = responder.Handle(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(AgentCommand.Rebaseline("default/pci", "r", "bob"), ContractJson.Default.AgentCommand)));
        Assert.True(ok.Ok);
        Assert.Equal(["default/pci"], ok.Rebaselined);

        // The command subject (which managers may publish to) refuses it.
        var handler = new CommandHandler(null!, TimeProvider.System);
        var reply = JsonSerializer.Deserialize(handler.Handle(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(AgentCommand.Rebaseline("default/pci", "r2", "mallory"), ContractJson.Default.AgentCommand))), ContractJson.Default.AgentReply)!;
        Assert.False(reply.Ok);
        Assert.Contains("only on fim.agent.<agentId>.rebaseline", reply.Error);
        Assert.Equal("r", drift.Get("default/pci")!.Rebaseline);
    }
}
