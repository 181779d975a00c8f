using System.Text.Json;
using Fim.Agent.Cli;
using Fim.Agent.Connected;
using Fim.Agent.Monitoring;
using Fim.Agent.Tests.Support;
using Fim.Contracts;
using Fim.Core.Baseline;
using Fim.Core.Model;
using Fim.Core.Policy;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Fim.Agent.Tests.Connected;

/// <summary>
/// Connected, a deleted, older or foreign baseline does not stop monitoring: the agent records a new one and the
/// reset travels as a baseline-reset event, committed to the outbox with the new baseline.
/// </summary>
public sealed class BaselineResetEventTests : IDisposable
{
    private const string PolicyKey = "prod.web";
    private readonly TempTree _t = new("reset");
    private readonly StateLocation _location;
    private readonly CompiledPolicy _policy;
    private readonly AgentIdentity _identity = new("node-1", "node-1.example.org", new Dictionary<string, string>());

    public BaselineResetEventTests()
    {
        _location = new StateLocation(Path.Combine(_t.Root, "state"), Path.Combine(_t.Root, "key", "baseline.key"));
        _policy = new CompiledPolicy { Name = "prod/web", Rules = [new CompiledPathRule { Root = PathBytes.FromString(_t.Root) }] };
    }

    public void Dispose() => _t.Dispose();

    /// <summary>Opens the policy's store as the supervisor does and commits one first-scan snapshot through the outbox sink.</summary>
    private List<FileEvent> CommitFirstScan()
    {
        using var stores = new StateStores(_location, NullLogger<StateStores>.Instance);
        var store = stores.Acquire(PolicyKey);
        var session = MonitorSession.Attach(_policy, store);
        var sink = new OutboxSink(new Outbox(stores, Options.Create(new AgentOptions())), new EventIdSource(_identity), _identity.Origin, NullLogger.Instance);
        var record = new FileRecord { Path = PathBytes.FromString(_t.Root + "/f"), Type = FileType.Regular };
        Assert.True(sink.Commit(session, new ChangeBatch([new BaselineUpdate(record.Path, record)], [], Snapshot: true)));
        Assert.Null(session.PendingReset);
        return [.. store.PeekPendingEvents(100).Select(e => JsonSerializer.Deserialize(e.Payload, ContractJson.Default.FileEvent)!)];
    }

    [Fact]
    public void A_first_baseline_reports_nothing_and_a_deleted_one_is_replaced_with_a_reset_event()
    {
        Assert.Empty(CommitFirstScan());
        Directory.Delete(Path.Combine(_location.StateDir, PolicyKey), recursive: true);

        var events = CommitFirstScan();

        var reset = Assert.Single(events);
        Assert.Equal(FileEvent.BaselineResetKind, reset.Kind);
        Assert.Equal("missing", reset.Reset!.Reason);
        Assert.Contains("it was deleted", reset.Reset.Detail);
        Assert.Equal(1, reset.Reset.PreviousGeneration);
        Assert.Equal(Path.Combine(_location.StateDir, PolicyKey), reset.Path);
        Assert.Equal("prod/web", reset.Policy);
        Assert.Equal("node-1", reset.AgentId);
    }

    [Fact]
    public void An_older_copy_is_replaced_with_a_reset_event_saying_so()
    {
        Assert.Empty(CommitFirstScan());
        var snapshot = Path.Combine(_location.StateDir, PolicyKey, BaselineStore.SnapshotFileName);
        var old = File.ReadAllBytes(snapshot);
        // The reset-free second snapshot: the first one acknowledged, so nothing waits in the outbox.
        using (var stores = new StateStores(_location, NullLogger<StateStores>.Instance))
        {
            var store = stores.Acquire(PolicyKey);
            store.Save(new Dictionary<string, string>());
        }
        File.WriteAllBytes(snapshot, old);

        var reset = Assert.Single(CommitFirstScan());

        Assert.Equal("older", reset.Reset!.Reason);
        Assert.Equal(2, reset.Reset.PreviousGeneration);
    }
}
