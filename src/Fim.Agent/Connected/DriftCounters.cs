using System.Text.Json;
using Fim.Contracts;
using Fim.Core.Model;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Connected;

/// <summary>
/// Each node policy's drift since its accepted baseline (<see cref="HeartbeatDrift"/>): the changes the agent committed
/// to the policy's outbox, counted by kind, kept in stateDir/&lt;policy key&gt;/drift.json so a restart does not forget
/// them, reported in the heartbeat and set back to zero only by a re-baseline request (<see cref="RebaselineResponder"/>).
/// The file is written (temp file, fsync, rename) after the batch's own commit: a crash in between under-counts that
/// one batch, whose events still reach the managers.
/// </summary>
public sealed class DriftCounters(TimeProvider time, ILogger<DriftCounters> logger)
{
    public const string FileName = "drift.json";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _byName = new(StringComparer.Ordinal);

    private sealed class Entry(string file, HeartbeatDrift drift)
    {
        public string File { get; } = file;
        public HeartbeatDrift Drift { get; set; } = drift;
        public int? LastScanErrors { get; set; }
    }

    /// <summary>Opens (or starts at zero, accepted now) the counters of policy <paramref name="name"/> whose store is <paramref name="stateDirectory"/>.</summary>
    public void Open(string name, string stateDirectory)
    {
        var file = Path.Combine(stateDirectory, FileName);
        lock (_gate)
        {
            if (_byName.TryGetValue(name, out var open) && open.File == file)
            {
                return;
            }
            var drift = Read(file);
            if (drift is null)
            {
                drift = new HeartbeatDrift(0, 0, 0, time.GetUtcNow());
                Write(file, drift);
            }
            _byName[name] = new Entry(file, drift);
        }
    }

    /// <summary>The policy stopped on this agent: no longer reported (its file stays with its store).</summary>
    public void Close(string name)
    {
        lock (_gate)
        {
            _byName.Remove(name);
        }
    }

    /// <summary>Counts the changes of one committed batch.</summary>
    public void Count(string name, IReadOnlyList<FileChange> changes)
    {
        long added = 0, changed = 0, removed = 0;
        foreach (var c in changes)
        {
            switch (c.Kind)
            {
                case ChangeKind.Added: added++; break;
                case ChangeKind.Deleted: removed++; break;
                case ChangeKind.BaselineReset: break;
                default: changed++; break;
            }
        }
        if (added + changed + removed == 0)
        {
            return;
        }
        lock (_gate)
        {
            if (!_byName.TryGetValue(name, out var e))
            {
                return;
            }
            e.Drift = e.Drift with { Added = e.Drift.Added + added, Changed = e.Drift.Changed + changed, Removed = e.Drift.Removed + removed };
            Write(e.File, e.Drift);
        }
    }

    public void ScanCompleted(string name, int errors)
    {
        lock (_gate)
        {
            if (_byName.TryGetValue(name, out var e))
            {
                e.LastScanErrors = errors;
            }
        }
    }

    public HeartbeatDrift? Get(string name)
    {
        lock (_gate)
        {
            return _byName.TryGetValue(name, out var e) ? e.Drift : null;
        }
    }

    public int? LastScanErrors(string name)
    {
        lock (_gate)
        {
            return _byName.TryGetValue(name, out var e) ? e.LastScanErrors : null;
        }
    }

    /// <summary>
    /// Accepts the current state of <paramref name="policy"/> (null: every policy) as the new baseline: its counters go
    /// to zero, accepted now by <paramref name="requestedBy"/>. A request id already applied changes nothing (a retried
    /// request must not hide drift found since). Returns the policies concerned, empty when none is open by that name.
    /// </summary>
    public IReadOnlyList<string> Rebaseline(string? policy, string requestId, string requestedBy)
    {
        var done = new List<string>();
        lock (_gate)
        {
            foreach (var (name, e) in _byName.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (policy is not null && name != policy)
                {
                    continue;
                }
                if (e.Drift.Rebaseline != requestId)
                {
                    e.Drift = new HeartbeatDrift(0, 0, 0, time.GetUtcNow(), requestId, requestedBy);
                    Write(e.File, e.Drift);
                    logger.LogWarning("policy {Policy}: the current state was accepted as the new baseline, asked by {RequestedBy} (request {RequestId})", name, requestedBy, requestId);
                }
                done.Add(name);
            }
        }
        return done;
    }

    private HeartbeatDrift? Read(string file)
    {
        try
        {
            return File.Exists(file) ? JsonSerializer.Deserialize(File.ReadAllBytes(file), ContractJson.Default.HeartbeatDrift) : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("{File}: cannot read the drift counters ({Error}); starting again from zero", file, e.Message);
            return null;
        }
    }

    private void Write(string file, HeartbeatDrift drift)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var temp = file + ".tmp";
            using (var s = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                s.Write(JsonSerializer.SerializeToUtf8Bytes(drift, ContractJson.Default.HeartbeatDrift));
                s.Flush(flushToDisk: true);
            }
            File.Move(temp, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogError("{File}: cannot save the drift counters: {Error}", file, e.Message);
        }
    }
}
