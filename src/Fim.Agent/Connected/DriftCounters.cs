using System.Text.Json;
using Fim.Contracts;
using Fim.Core.Model;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Connected;

/// <summary>
/// Each node policy's drift since its accepted baseline (<see cref="HeartbeatDrift"/>): the distinct files whose net
/// change since then is an addition, a change or a removal (a file added then modified counts once, as added; one
/// added then removed not at all; one modified then removed as removed; one removed then re-created as changed). Kept
/// in stateDir/&lt;policy key&gt;/drift.json (the counts and an 8-byte hash per drifted path) so a restart does not
/// forget it, reported in the heartbeat, and set back to zero only by a re-baseline request
/// (<see cref="RebaselineResponder"/>). The file is written (temp file, fsync, rename) after the batch's own commit: a
/// crash in between under-counts that one batch, whose events still reach the managers. It is sealed with the baseline
/// key and bound to its path: a file edited, deleted or copied from elsewhere to hide drift is not believed; the
/// policy then reports a problem (an error in FimNodeStatus) until its state is accepted again by a re-baseline.
/// </summary>
public sealed class DriftCounters(TimeProvider time, ILogger<DriftCounters> logger)
{
    public const string FileName = "drift.json";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _byName = new(StringComparer.Ordinal);

    private const byte Added = 1, Changed = 2, Removed = 3;

    private const string SealPurpose = "fim-drift-v1";

    private sealed class Entry(string file, Fim.Core.Baseline.BaselineKey key, HeartbeatDrift drift, Dictionary<ulong, byte> paths)
    {
        public string File { get; } = file;
        public Fim.Core.Baseline.BaselineKey Key { get; } = key;
        /// <summary>Why the counters on disk were not believed; null when they were (or after a re-baseline).</summary>
        public string? Problem { get; set; }
        public HeartbeatDrift Drift { get; set; } = drift;
        public Dictionary<ulong, byte> Paths { get; } = paths;
        public int? LastScanErrors { get; set; }

        public void Recount() => Drift = Drift with
        {
            Added = Paths.Values.Count(v => v == Added),
            Changed = Paths.Values.Count(v => v == Changed),
            Removed = Paths.Values.Count(v => v == Removed),
        };
    }

    /// <summary>
    /// The on-disk form: the drift and the drifted paths' hashes with their net kind (base64 of 9-byte entries), and the
    /// seal (base64 HMAC over the file's path and the form without its seal).
    /// </summary>
    public sealed record Stored(HeartbeatDrift Drift, string Paths, string? Seal = null);

    /// <summary>
    /// Opens the counters of policy <paramref name="name"/> whose store is <paramref name="stateDirectory"/>: a new
    /// policy starts at zero, accepted now; counters that are missing for a store that has a baseline, or fail their
    /// seal, start at zero too but with a problem reported until a re-baseline.
    /// </summary>
    public void Open(string name, string stateDirectory, Fim.Core.Baseline.BaselineKey key)
    {
        var file = Path.Combine(stateDirectory, FileName);
        lock (_gate)
        {
            if (_byName.TryGetValue(name, out var open) && open.File == file)
            {
                return;
            }
            var entry = Read(file, key, out var problem);
            if (entry is null)
            {
                entry = new Entry(file, key, new HeartbeatDrift(0, 0, 0, time.GetUtcNow()), []) { Problem = problem };
                Write(entry);
            }
            _byName[name] = entry;
        }
    }

    /// <summary>Why the policy's drift counters cannot be trusted (tampered with, or lost), or null.</summary>
    public string? Problem(string name)
    {
        lock (_gate)
        {
            return _byName.TryGetValue(name, out var e) ? e.Problem : null;
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

    /// <summary>Folds the changes of one committed batch into each path's net change since the accepted baseline.</summary>
    public void Count(string name, IReadOnlyList<FileChange> changes)
    {
        if (changes.Count == 0)
        {
            return;
        }
        lock (_gate)
        {
            if (!_byName.TryGetValue(name, out var e))
            {
                return;
            }
            var moved = false;
            foreach (var c in changes)
            {
                if (c.Kind == ChangeKind.BaselineReset)
                {
                    continue;
                }
                var key = System.IO.Hashing.XxHash64.HashToUInt64(c.Path);
                e.Paths.TryGetValue(key, out var was);
                byte now = (was, c.Kind) switch
                {
                    (0, ChangeKind.Added) => Added,
                    (0, ChangeKind.Deleted) => Removed,
                    (0, _) => Changed,
                    (Added, ChangeKind.Deleted) => 0, // came and went: no drift
                    (Added, _) => Added,
                    (Removed, ChangeKind.Deleted) => Removed,
                    (Removed, _) => Changed, // was there at the baseline, is there again
                    (_, ChangeKind.Deleted) => Removed,
                    _ => Changed,
                };
                if (now == was)
                {
                    continue;
                }
                moved = true;
                if (now == 0)
                {
                    e.Paths.Remove(key);
                }
                else
                {
                    e.Paths[key] = now;
                }
            }
            if (moved)
            {
                e.Recount();
                Write(e);
            }
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
                    e.Paths.Clear();
                    e.Problem = null;
                    Write(e);
                    logger.LogWarning("policy {Policy}: the current state was accepted as the new baseline, asked by {RequestedBy} (request {RequestId})", name, requestedBy, requestId);
                }
                done.Add(name);
            }
        }
        return done;
    }

    private Entry? Read(string file, Fim.Core.Baseline.BaselineKey key, out string? problem)
    {
        problem = null;
        try
        {
            if (!File.Exists(file))
            {
                // A store with a baseline had counters since its first batch: their absence hides whatever they held.
                if (Directory.Exists(Path.GetDirectoryName(file)) && Directory.EnumerateFiles(Path.GetDirectoryName(file)!, Fim.Core.Baseline.BaselineStore.SnapshotFileName).Any())
                {
                    problem = $"the drift counters {file} are missing though the policy has a baseline; drift since then is unknown until a re-baseline";
                    logger.LogError("{Problem}", problem);
                }
                return null;
            }
            var stored = JsonSerializer.Deserialize(File.ReadAllBytes(file), DriftJson.Default.Stored);
            if (stored is null)
            {
                throw new JsonException("empty");
            }
            if (stored.Seal is null || !key.Verify(SealPurpose, SealedBytes(file, stored), Convert.FromBase64String(stored.Seal)))
            {
                problem = $"the drift counters {file} fail their seal (edited, replaced or not written by this agent); drift since the accepted baseline is unknown until a re-baseline";
                logger.LogError("{Problem}", problem);
                return null;
            }
            var bytes = Convert.FromBase64String(stored.Paths);
            var paths = new Dictionary<ulong, byte>(bytes.Length / 9);
            for (var i = 0; i + 9 <= bytes.Length; i += 9)
            {
                paths[System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(i))] = bytes[i + 8];
            }
            var entry = new Entry(file, key, stored.Drift, paths);
            entry.Recount();
            return entry;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or FormatException)
        {
            problem = $"the drift counters {file} cannot be read ({e.Message}); drift since the accepted baseline is unknown until a re-baseline";
            logger.LogError("{Problem}", problem);
            return null;
        }
    }

    /// <summary>What the seal covers: the file's path (a copy moved to another policy fails) and the form without its seal.</summary>
    private static byte[] SealedBytes(string file, Stored stored) =>
        [.. System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(file) + "\0"), .. JsonSerializer.SerializeToUtf8Bytes(stored with { Seal = null }, DriftJson.Default.Stored)];

    private void Write(Entry entry)
    {
        var file = entry.File;
        try
        {
            var bytes = new byte[entry.Paths.Count * 9];
            var i = 0;
            foreach (var (key, kind) in entry.Paths)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i), key);
                bytes[i + 8] = kind;
                i += 9;
            }
            var stored = new Stored(entry.Drift, Convert.ToBase64String(bytes));
            stored = stored with { Seal = Convert.ToBase64String(entry.Key.Seal(SealPurpose, SealedBytes(file, stored))) };
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var temp = file + ".tmp";
            using (var s = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                s.Write(JsonSerializer.SerializeToUtf8Bytes(stored, DriftJson.Default.Stored));
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

/// <summary>Source-generated JSON of the agent's drift file (AOT: no reflection).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(DriftCounters.Stored))]
internal sealed partial class DriftJson : System.Text.Json.Serialization.JsonSerializerContext;
