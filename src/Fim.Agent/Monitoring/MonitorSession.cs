using Fim.Agent.Cli;
using Fim.Core.Baseline;
using Fim.Core.Content;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Scanning;

namespace Fim.Agent.Monitoring;

/// <summary>
/// A policy, its scanner and the baseline store it compares against: the agent's unit of work.
/// Scans and realtime observations only compute updates; <see cref="Commit"/> writes them (a full snapshot after a
/// scan, the journal otherwise), together with the outbox events that report them.
/// </summary>
public sealed class MonitorSession : IDisposable
{
    /// <summary>The journal is compacted into a new snapshot when it grows past this (realtime changes and acknowledgements add to it).</summary>
    public const long CompactJournalBytes = 64L << 20;

    private readonly BaselineStore _store;
    private readonly bool _ownsStore;

    private MonitorSession(CompiledPolicy policy, BaselineStore store, ScanThrottle? throttle, bool ownsStore = true)
    {
        Policy = policy;
        _store = store;
        Throttle = throttle;
        _ownsStore = ownsStore;
    }

    /// <summary>A session over a store someone else owns (and disposes): the connected agent keeps a policy's store open across revisions.</summary>
    public static MonitorSession Attach(CompiledPolicy policy, BaselineStore store)
    {
        var throttle = new ScanThrottle(policy.BytesPerSecond, policy.FilesPerSecond);
        return new MonitorSession(policy, store, throttle.IsUnlimited ? null : throttle, ownsStore: false);
    }

    public CompiledPolicy Policy { get; }

    /// <summary>Content diffs and append-only checkpoints of this policy, kept beside its baseline.</summary>
    public ContentTracker Content => _content ??= ContentTracker.Open(Policy, _store);

    private ContentTracker? _content;

    public ScanThrottle? Throttle { get; }

    public bool HasBaseline => !_store.IsEmpty;

    public int BaselineCount => _store.Records.Count;

    public string BaselineDigest => _store.Digest;

    /// <summary>The baseline this session replaces, until the first commit records the new one (a re-baseline).</summary>
    public BaselineReset? PendingReset => _store.PendingReset;

    /// <summary>The state directory of this session's store (the path of a baseline-reset event).</summary>
    public string StateDirectory => _store.StateDirectory;

    /// <summary>Why the anchor could not be written, once per failure (worth one warning); otherwise null.</summary>
    public string? TakeAnchorWarning() => _store.TakeAnchorWarning();

    public bool HasRecord(byte[] path) => _store.Records.TryGet(path, out _);

    public bool TryGetRecord(byte[] path, out FileRecord record) => _store.Records.TryGet(path, out record);

    /// <summary>Every record, decoded one at a time (for housekeeping, not for hot paths): do not hold them all.</summary>
    public IEnumerable<FileRecord> Records() => _store.Records.All;

    /// <summary>Between scans: holds the baseline in its compact form again once many records are objects (see <see cref="BaselineRecords.Freeze"/>).</summary>
    public bool FreezeRecords() => _store.Records.Freeze();

    /// <summary>Events in this session's outbox, not acknowledged yet.</summary>
    public int PendingEventCount => _store.PendingEventCount;

    public long PendingEventBytes => _store.PendingEventBytes;

    public IReadOnlyList<OutboxEvent> PeekPendingEvents(int max) => _store.PeekPendingEvents(max);

    /// <summary>Removes delivered events from the outbox (durably).</summary>
    public void Acknowledge(IReadOnlyCollection<ulong> sequences) => _store.Acknowledge(sequences);

    public static MonitorSession Open(CompiledPolicy policy, StateLocation state, bool rebaseline)
    {
        try
        {
            if (rebaseline)
            {
                BaselineStore.Discard(state.StateDir);
            }
            var key = File.Exists(Path.Combine(state.StateDir, BaselineStore.SnapshotFileName)) ? LoadExistingKey(state) : BaselineKey.LoadOrCreate(state.KeyFile);
            var store = BaselineStore.Open(state.StateDir, key, new BaselineAnchor(state.AnchorFile, key),
                rebaseline ? new BaselineReset(BaselineReset.Requested, "discarded on request (--rebaseline)", null) : null);
            var throttle = new ScanThrottle(policy.BytesPerSecond, policy.FilesPerSecond);
            return new MonitorSession(policy, store, throttle.IsUnlimited ? null : throttle);
        }
        catch (BaselineIntegrityException e)
        {
            throw new AgentException(ExitCodes.BaselineIntegrity, e.Message, e);
        }
        catch (BaselineKeyException e)
        {
            throw new AgentException(ExitCodes.BaselineIntegrity, e.Message, e);
        }
        catch (BaselineLockedException e)
        {
            throw new AgentException(ExitCodes.BaselineLocked, e.Message, e);
        }
        catch (IOException e)
        {
            throw new AgentException(ExitCodes.BaselineWriteError, $"cannot open the state directory {state.StateDir}: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new AgentException(ExitCodes.BaselineWriteError, $"cannot open the state directory {state.StateDir}: {e.Message}", e);
        }
    }

    private static BaselineKey LoadExistingKey(StateLocation state)
    {
        if (!File.Exists(state.KeyFile))
        {
            throw new AgentException(ExitCodes.BaselineIntegrity,
                $"a baseline exists in {state.StateDir} but its HMAC key {state.KeyFile} is missing, so it cannot be verified. " +
                "Restore the key file, or record a new baseline with `fim-agent scan --rebaseline` (changes since the old baseline will not be reported).");
        }
        return BaselineKey.Load(state.KeyFile);
    }

    public Scanner CreateScanner(bool verifyFull, bool recordOnly, DetectionSource source = DetectionSource.Scan) =>
        new(Policy, new ScanOptions
        {
            VerifyFull = verifyFull || Policy.VerifyFull,
            RecordOnly = recordOnly,
            Parallelism = Policy.Parallelism,
            Throttle = Throttle,
            Source = source,
        });

    /// <summary>Scans everything (or one subtree) against the baseline; nothing is written until <see cref="Commit"/>.</summary>
    public ScanResult Scan(Scanner scanner, CancellationToken ct, byte[]? subtree = null) =>
        subtree is null ? scanner.Scan(_store.Records, ct) : scanner.ScanSubtree(_store.Records, subtree, ct);

    /// <summary>One path observed now (realtime); the update, if any, is in the journal before this returns.</summary>
    /// <summary>A file reported created and gone before it was read: its added and deleted changes (see <see cref="Scanner.Transient"/>).</summary>
    public IReadOnlyList<FileChange>? Transient(Scanner scanner, byte[] path) => scanner.Transient(_store.Records, path);

    public FileChange? Observe(Scanner scanner, byte[] path, List<BaselineUpdate> pending)
    {
        var (change, update) = scanner.Observe(_store.Records, path);
        if (update is { } u)
        {
            pending.Add(u);
        }
        return change;
    }

    /// <summary>
    /// Writes updates and the events reporting them in one transaction: a full snapshot after a scan, a journal
    /// append otherwise. Compacts the journal when it has grown large.
    /// </summary>
    public IReadOnlyList<OutboxEvent> Commit(IReadOnlyList<BaselineUpdate> updates, IReadOnlyList<OutboxMessage> events, bool snapshot)
    {
        try
        {
            if (snapshot || _store.JournalBytes > CompactJournalBytes)
            {
                _store.Records.Apply(updates);
                if (updates.Count > 0 || events.Count > 0 || _store.IsEmpty || _store.JournalBytes > CompactJournalBytes)
                {
                    return _store.Save(Metadata(), events);
                }
                return [];
            }
            return _store.Append(updates, events);
        }
        catch (BaselineWriteException e)
        {
            throw new AgentException(ExitCodes.BaselineWriteError, e.Message, e);
        }
    }

    private Dictionary<string, string> Metadata() => new()
    {
        ["policy"] = Policy.Name,
        ["roots"] = string.Join(":", Policy.Rules.Select(r => r.RootDisplay)),
        ["agentVersion"] = typeof(MonitorSession).Assembly.GetName().Version?.ToString() ?? "0",
        ["savedAt"] = DateTimeOffset.UtcNow.ToString("O"),
    };

    public void Dispose()
    {
        if (_ownsStore)
        {
            _store.Dispose();
        }
    }
}
