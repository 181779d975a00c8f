using Fim.Agent.Cli;
using Fim.Core.Baseline;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Scanning;

namespace Fim.Agent.Monitoring;

/// <summary>
/// A policy, its scanner and the baseline store it compares against: the standalone agent's unit of work.
/// Scans apply their updates to the store; realtime observations go to the store's journal.
/// </summary>
public sealed class MonitorSession : IDisposable
{
    private readonly BaselineStore _store;

    private MonitorSession(CompiledPolicy policy, BaselineStore store, ScanThrottle? throttle)
    {
        Policy = policy;
        _store = store;
        Throttle = throttle;
    }

    public CompiledPolicy Policy { get; }

    public ScanThrottle? Throttle { get; }

    public bool HasBaseline => !_store.IsEmpty;

    public int BaselineCount => _store.Records.Count;

    public string BaselineDigest => _store.Digest;

    public bool HasRecord(byte[] path) => _store.Records.TryGet(path, out _);

    public static MonitorSession Open(CompiledPolicy policy, StateLocation state, bool rebaseline)
    {
        try
        {
            if (rebaseline)
            {
                BaselineStore.Discard(state.StateDir);
            }
            var key = File.Exists(Path.Combine(state.StateDir, BaselineStore.SnapshotFileName)) ? LoadExistingKey(state) : BaselineKey.LoadOrCreate(state.KeyFile);
            var store = BaselineStore.Open(state.StateDir, key);
            var throttle = new ScanThrottle(policy.BytesPerSecond, policy.FilesPerSecond);
            return new MonitorSession(policy, store, throttle.IsUnlimited ? null : throttle);
        }
        catch (BaselineIntegrityException e)
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

    /// <summary>Scans and, unless nothing changed, writes the new baseline as one atomic snapshot.</summary>
    public ScanResult Scan(Scanner scanner, CancellationToken ct, byte[]? subtree = null)
    {
        var result = subtree is null ? scanner.Scan(_store.Records, ct) : scanner.ScanSubtree(_store.Records, subtree, ct);
        if (subtree is null)
        {
            Commit(result.Updates, snapshot: true);
        }
        else
        {
            Commit(result.Updates, snapshot: false);
        }
        return result;
    }

    /// <summary>One path observed now (realtime); the update, if any, is in the journal before this returns.</summary>
    public FileChange? Observe(Scanner scanner, byte[] path, List<BaselineUpdate> pending)
    {
        var (change, update) = scanner.Observe(_store.Records, path);
        if (update is { } u)
        {
            pending.Add(u);
        }
        return change;
    }

    /// <summary>Writes updates: a full snapshot after a scan, a journal append for realtime changes.</summary>
    public void Commit(IReadOnlyList<BaselineUpdate> updates, bool snapshot)
    {
        try
        {
            if (snapshot)
            {
                foreach (var u in updates)
                {
                    if (u.Record is null)
                    {
                        _store.Records.Remove(u.Path);
                    }
                    else
                    {
                        _store.Records.Set(u.Record);
                    }
                }
                if (updates.Count > 0 || _store.IsEmpty)
                {
                    _store.Save(Metadata());
                }
            }
            else if (updates.Count > 0)
            {
                _store.Append(updates);
            }
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

    public void Dispose() => _store.Dispose();
}
