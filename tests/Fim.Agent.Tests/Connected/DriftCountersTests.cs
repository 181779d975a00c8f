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

    private Fim.Core.Baseline.BaselineKey Key => Fim.Core.Baseline.BaselineKey.LoadOrCreate(Path.Combine(_dir.FullName, "keys", "baseline.key"));

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
        drift.Open("default/pci", store, Key);
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
        restarted.Open("default/pci", store, Key);
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
    public void Counters_edited_deleted_or_copied_to_hide_drift_are_not_believed_until_a_rebaseline()
    {
        var store = Path.Combine(_dir.FullName, "default.pci");
        var file = Path.Combine(store, DriftCounters.FileName);
        DriftCounters Reopen(string dir)
        {
            var d = new DriftCounters(TimeProvider.System, NullLogger<DriftCounters>.Instance);
            d.Open("default/pci", dir, Key);
            return d;
        }
        var drift = Reopen(store);
        drift.Count("default/pci", [Change(ChangeKind.Modified, "/etc/shadow"), Change(ChangeKind.Added, "/usr/bin/backdoor")]);
        Assert.Null(Reopen(store).Problem("default/pci"));
        Assert.Equal(2, Reopen(store).Get("default/pci")!.Total);

        // An intruder zeroes the counts, keeping the JSON valid: the seal no longer matches.
        var stored = JsonSerializer.Deserialize<DriftCounters.Stored>(File.ReadAllText(file), JsonSerializerOptions.Web)!;
        File.WriteAllText(file, JsonSerializer.Serialize(stored with { Drift = stored.Drift with { Added = 0, Changed = 0 }, Paths = "" }, JsonSerializerOptions.Web));
        var tampered = Reopen(store);
        Assert.Contains("fail their seal", tampered.Problem("default/pci"));
        Assert.Equal(0, tampered.Get("default/pci")!.Total);

        // Accepting the current state (the operator's fim.io/rebaseline) is what clears it, and the new file is sealed again.
        tampered.Rebaseline("default/pci", "req-1", "alice");
        Assert.Null(tampered.Problem("default/pci"));
        Assert.Null(Reopen(store).Problem("default/pci"));

        // Deleted while the policy has a baseline: unknown, not clean.
        File.WriteAllText(Path.Combine(store, Fim.Core.Baseline.BaselineStore.SnapshotFileName), "x");
        File.Delete(file);
        Assert.Contains("are missing though the policy has a baseline", Reopen(store).Problem("default/pci"));

        // A clean file from another policy's store, copied over: bound to its own path, it fails too.
        var other = Path.Combine(_dir.FullName, "default.other");
        var otherDrift = new DriftCounters(TimeProvider.System, NullLogger<DriftCounters>.Instance);
        otherDrift.Open("default/other", other, Key);
        File.Copy(Path.Combine(other, DriftCounters.FileName), file, overwrite: true);
        Assert.Contains("fail their seal", Reopen(store).Problem("default/pci"));

        // Garbage: counted as unreadable, reported the same way.
        File.WriteAllText(file, "{not json");
        Assert.Contains("cannot be read", Reopen(store).Problem("default/pci"));
    }

    [Fact]
    public void The_responder_needs_the_rebaseline_command_a_request_id_and_a_requester_and_names_a_policy_that_is_not_running()
    {
        var drift = new DriftCounters(TimeProvider.System, NullLogger<DriftCounters>.Instance);
        drift.Open("default/pci", Path.Combine(_dir.FullName, "default.pci"), Key);
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
