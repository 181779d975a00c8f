using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Fim.Core.Baseline;

/// <summary>What the anchor remembers of one store: which baseline it holds and how many snapshots it has saved.</summary>
/// <param name="StoreId">Random id given at a store's first snapshot (and at each re-baseline); a copy from elsewhere has another.</param>
/// <param name="Generation">Counts the store's snapshots, across re-baselines; an older copy has a lower one.</param>
/// <param name="SnapshotMac">Hex MAC of the last snapshot saved.</param>
/// <param name="SavedAt">When that snapshot was saved.</param>
public sealed record AnchorEntry(string StoreId, long Generation, string SnapshotMac, DateTimeOffset SavedAt);

/// <summary>
/// Remembers, outside the state directory (beside the key), that a baseline exists and which one: per store directory,
/// its id, generation and last snapshot MAC, sealed with the baseline key. The seal alone cannot show a deleted,
/// replayed (older copy) or foreign (copied from another host with the same key) baseline; this file can. Deleting the
/// key and the anchor together is a fresh install, so the key directory must be protected like the key.
/// </summary>
/// <remarks>
/// Format (text): "FIMANCH1", the key id, one line per store "&lt;base64 UTF-8 directory&gt; &lt;store id&gt; &lt;generation&gt;
/// &lt;snapshot MAC hex&gt; &lt;saved Unix ms&gt;", then "MAC &lt;hex HMAC-SHA256 of every byte before&gt;". Rewritten by rename,
/// under a lock file, so stores of several processes sharing a key do not lose each other's entries.
/// </remarks>
public sealed class BaselineAnchor
{
    private const string Magic = "FIMANCH1";
    private const string MacPrefix = "MAC ";
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(10);

    private readonly BaselineKey _key;

    public BaselineAnchor(string filePath, BaselineKey key)
    {
        FilePath = Path.GetFullPath(filePath);
        _key = key;
        // Made before the scan records the tree, so a first baseline already holds it and the next scan sees no change.
        try
        {
            CreateDirectory(Path.GetDirectoryName(FilePath)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Set reports it: the agent warns that it runs without the anchor check.
        }
    }

    private static void CreateDirectory(string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>
    /// The default place: a directory of its own beside the key file, named after it. Its own directory because every
    /// rewrite (a rename) changes the directory that holds it: that directory is left out of monitoring, and the key's
    /// directory (often below a monitored /etc) does not change with each scan.
    /// </summary>
    public static string PathFor(string keyFile) =>
        Path.Combine(Path.GetFullPath(keyFile) + ".anchor.d", "anchor");

    /// <summary>Files the anchor writes beside itself (the rewrite's temporary file and the lock).</summary>
    public static IEnumerable<string> WrittenFiles(string anchorFile) => [anchorFile, anchorFile + ".tmp", anchorFile + ".lock"];

    public string FilePath { get; }

    /// <summary>The entry of <paramref name="storeDirectory"/>, or null when the anchor does not know it (or does not exist).</summary>
    /// <exception cref="BaselineIntegrityException">The anchor file was modified or sealed with another key.</exception>
    public AnchorEntry? Get(string storeDirectory) =>
        ReadAll().TryGetValue(Path.GetFullPath(storeDirectory), out var entry) ? entry : null;

    /// <summary>Records <paramref name="entry"/> for <paramref name="storeDirectory"/> durably (file and directory fsync).</summary>
    /// <exception cref="IOException">The anchor could not be written (read-only directory, disk full).</exception>
    public void Set(string storeDirectory, AnchorEntry entry)
    {
        var directory = Path.GetDirectoryName(FilePath)!;
        CreateDirectory(directory);
        using var fileLock = AcquireLock();
        var all = ReadAll();
        all[Path.GetFullPath(storeDirectory)] = entry;
        Write(directory, all);
    }

    private void Write(string directory, Dictionary<string, AnchorEntry> all)
    {
        var temp = FilePath + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var file = new FileStream(temp, options))
        {
            file.Write(Encode(all));
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, FilePath, overwrite: true);
        DirectorySync.Flush(directory);
    }

    /// <summary>
    /// Forgets <paramref name="storeDirectory"/> (its store was deleted on purpose), so the anchor does not keep one
    /// entry per store ever made and a later store in that directory is a first baseline, not a deleted one.
    /// </summary>
    /// <returns>False when the anchor did not know it.</returns>
    /// <exception cref="IOException">The anchor could not be written.</exception>
    public bool Remove(string storeDirectory)
    {
        var directory = Path.GetDirectoryName(FilePath)!;
        if (!File.Exists(FilePath))
        {
            return false;
        }
        using var fileLock = AcquireLock();
        var all = ReadAll();
        if (!all.Remove(Path.GetFullPath(storeDirectory)))
        {
            return false;
        }
        Write(directory, all);
        return true;
    }

    private Dictionary<string, AnchorEntry> ReadAll()
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(FilePath);
        }
        catch (FileNotFoundException)
        {
            return new(StringComparer.Ordinal);
        }
        catch (DirectoryNotFoundException)
        {
            return new(StringComparer.Ordinal);
        }
        return Decode(bytes);
    }

    private byte[] Encode(Dictionary<string, AnchorEntry> entries)
    {
        var text = new StringBuilder();
        text.Append(Magic).Append('\n').Append(_key.KeyId).Append('\n');
        foreach (var (dir, e) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{Convert.ToBase64String(Encoding.UTF8.GetBytes(dir))} {e.StoreId} {e.Generation} {e.SnapshotMac} {e.SavedAt.ToUnixTimeMilliseconds()}\n");
        }
        var body = Encoding.UTF8.GetBytes(text.ToString());
        return [.. body, .. Encoding.ASCII.GetBytes($"{MacPrefix}{Convert.ToHexStringLower(Mac(body))}\n")];
    }

    private Dictionary<string, AnchorEntry> Decode(byte[] bytes)
    {
        BaselineIntegrityException Refuse(BaselineIntegrityProblem problem, string detail) =>
            new(FilePath, problem, $"{detail}. The anchor remembers which baseline each state directory holds; it is kept beside the key and sealed with it");
        var macAt = bytes.AsSpan().LastIndexOf(Encoding.ASCII.GetBytes("\n" + MacPrefix)) + 1;
        if (macAt <= 0)
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, "it has no seal (modified or damaged)");
        }
        var body = bytes.AsSpan(0, macAt);
        var seal = Encoding.ASCII.GetString(bytes, macAt + MacPrefix.Length, bytes.Length - macAt - MacPrefix.Length).Trim();
        var lines = Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 2 || lines[0] != Magic)
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, "it does not start with the FIMANCH1 signature");
        }
        if (lines[1] != _key.KeyId)
        {
            throw Refuse(BaselineIntegrityProblem.WrongKey, $"it was sealed with key {lines[1]}, not with the key given ({_key.KeyId})");
        }
        byte[] expected;
        try
        {
            expected = Convert.FromHexString(seal);
        }
        catch (FormatException)
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, "its seal is not hex");
        }
        if (!CryptographicOperations.FixedTimeEquals(expected, Mac(body)))
        {
            throw Refuse(BaselineIntegrityProblem.Tampered, "its content does not match its seal (modified)");
        }
        var entries = new Dictionary<string, AnchorEntry>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(2))
        {
            var f = line.Split(' ');
            if (f.Length != 5 || !long.TryParse(f[2], CultureInfo.InvariantCulture, out var generation) ||
                !long.TryParse(f[4], CultureInfo.InvariantCulture, out var savedMs))
            {
                throw Refuse(BaselineIntegrityProblem.Tampered, "a line is not a store entry");
            }
            entries[Encoding.UTF8.GetString(Convert.FromBase64String(f[0]))] =
                new AnchorEntry(f[1], generation, f[3], DateTimeOffset.FromUnixTimeMilliseconds(savedMs));
        }
        return entries;
    }

    private byte[] Mac(ReadOnlySpan<byte> body)
    {
        using var mac = _key.CreateMac();
        mac.AppendData(body);
        return mac.GetHashAndReset();
    }

    private FileStream AcquireLock()
    {
        var deadline = DateTime.UtcNow + LockWait;
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        while (true)
        {
            try
            {
                return new FileStream(FilePath + ".lock", options);
            }
            catch (IOException e) when (e.HResult == Errno.EAGAIN && DateTime.UtcNow < deadline)
            {
                // Another process is rewriting the anchor; it takes milliseconds.
                Thread.Sleep(20);
            }
        }
    }
}
