using Fim.Agent.Cli;
using Fim.Core.Baseline;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Connected;

/// <summary>
/// The per-policy baseline stores under the state directory (stateDir/&lt;policy key&gt;/), each holding its
/// policy's outbox. A store stays open while its policy is monitored or while it still holds undelivered events
/// (a removed policy's events are still delivered); at start every store left with events is opened, so events
/// written before a crash or a policy removal are sent too.
/// </summary>
public sealed class StateStores : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _open = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private BaselineKey? _key;

    public StateStores(StateLocation location, ILogger<StateStores> logger)
    {
        Location = location;
        _logger = logger;
    }

    public StateLocation Location { get; }

    /// <summary>Stores currently open (the publisher drains these).</summary>
    public IReadOnlyList<(string Key, BaselineStore Store)> Open()
    {
        lock (_gate)
        {
            return [.. _open.Select(e => (e.Key, e.Value.Store))];
        }
    }

    public int PendingEventCount => Open().Sum(s => s.Store.PendingEventCount);

    public long PendingEventBytes => Open().Sum(s => s.Store.PendingEventBytes);

    /// <summary>The store of <paramref name="policyKey"/>, opened if needed, marked in use until <see cref="Release"/>.</summary>
    /// <exception cref="BaselineIntegrityException">The store was tampered with or sealed with another key.</exception>
    /// <exception cref="BaselineLockedException">Another process holds it.</exception>
    public BaselineStore Acquire(string policyKey)
    {
        lock (_gate)
        {
            if (!_open.TryGetValue(policyKey, out var entry))
            {
                entry = new Entry(OpenChecked(DirectoryOf(policyKey)));
                _open[policyKey] = entry;
            }
            entry.Users++;
            return entry.Store;
        }
    }

    /// <summary>The policy no longer uses its store; it closes once its outbox is empty.</summary>
    public void Release(string policyKey)
    {
        lock (_gate)
        {
            if (_open.TryGetValue(policyKey, out var entry))
            {
                entry.Users = Math.Max(0, entry.Users - 1);
            }
        }
        CloseIdle();
    }

    /// <summary>Closes stores no policy uses and whose outbox is empty.</summary>
    public void CloseIdle()
    {
        lock (_gate)
        {
            foreach (var (key, entry) in _open.ToList())
            {
                if (entry.Users == 0 && entry.Store.PendingEventCount == 0)
                {
                    entry.Store.Dispose();
                    _open.Remove(key);
                }
            }
        }
    }

    /// <summary>Opens the stores that hold undelivered events from an earlier run; logs and skips those that fail.</summary>
    public int OpenLeftovers()
    {
        if (!Directory.Exists(Location.StateDir))
        {
            return 0;
        }
        var pending = 0;
        foreach (var dir in Directory.EnumerateDirectories(Location.StateDir))
        {
            var key = Path.GetFileName(dir);
            if (!File.Exists(Path.Combine(dir, BaselineStore.SnapshotFileName)))
            {
                continue;
            }
            try
            {
                var store = Acquire(key);
                pending += store.PendingEventCount;
                Release(key);
            }
            catch (Exception e) when (e is BaselineIntegrityException or BaselineKeyException or BaselineLockedException or IOException or AgentException)
            {
                _logger.LogError("cannot open the baseline store {Dir} to deliver its waiting events: {Error}", dir, e.Message);
            }
        }
        return pending;
    }

    /// <summary>
    /// Opens a store checked against the anchor. Connected, a deleted, older or foreign baseline does not stop
    /// monitoring: it is discarded and replaced, and the first commit of the new one carries a baseline-reset event,
    /// which the managers raise as a high-level alert.
    /// </summary>
    private BaselineStore OpenChecked(string directory)
    {
        var key = Key();
        var anchor = new BaselineAnchor(Location.AnchorFile, key);
        try
        {
            return BaselineStore.Open(directory, key, anchor, null);
        }
        catch (BaselineIntegrityException e) when (e.Problem is BaselineIntegrityProblem.Missing or BaselineIntegrityProblem.Older or BaselineIntegrityProblem.Foreign)
        {
            _logger.LogError("the baseline in {Dir} is refused: {Detail}; recording a new one and reporting the reset as an event",
                directory, e.Detail);
            BaselineStore.Discard(directory);
            return BaselineStore.Open(directory, key, anchor, new BaselineReset(BaselineReset.ReasonOf(e.Problem), e.Detail, null));
        }
    }

    public string DirectoryOf(string policyKey) => Path.Combine(Location.StateDir, policyKey);

    /// <summary>
    /// Deletes the store of <paramref name="policyKey"/> for good (a removed container's): closes it, removes its
    /// directory and its entry in the anchor, so neither outlives it. No policy may still use it.
    /// </summary>
    /// <exception cref="InvalidOperationException">A policy still uses the store.</exception>
    /// <exception cref="IOException">The directory or the anchor could not be changed.</exception>
    public void Delete(string policyKey)
    {
        lock (_gate)
        {
            if (_open.TryGetValue(policyKey, out var entry))
            {
                if (entry.Users > 0)
                {
                    throw new InvalidOperationException($"the baseline store {policyKey} is still in use");
                }
                entry.Store.Dispose();
                _open.Remove(policyKey);
            }
        }
        var directory = DirectoryOf(policyKey);
        // The anchor first: a store the anchor does not know is taken as a first baseline, whereas an anchor entry
        // without its store would later read as a deleted baseline.
        new BaselineAnchor(Location.AnchorFile, Key()).Remove(directory);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The key that seals the baselines (loaded or created on first use), for the state files kept beside them.</summary>
    public BaselineKey SealingKey => Key();

    private BaselineKey Key()
    {
        if (_key is not null)
        {
            return _key;
        }
        if (!File.Exists(Location.KeyFile) && Directory.Exists(Location.StateDir) &&
            Directory.EnumerateFiles(Location.StateDir, BaselineStore.SnapshotFileName, SearchOption.AllDirectories).Any())
        {
            throw new AgentException(ExitCodes.BaselineIntegrity,
                $"baselines exist in {Location.StateDir} but their HMAC key {Location.KeyFile} is missing, so they cannot be verified; restore the key file");
        }
        return _key = BaselineKey.LoadOrCreate(Location.KeyFile);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var entry in _open.Values)
            {
                entry.Store.Dispose();
            }
            _open.Clear();
        }
    }

    private sealed class Entry(BaselineStore store)
    {
        public BaselineStore Store { get; } = store;
        public int Users { get; set; }
    }
}
