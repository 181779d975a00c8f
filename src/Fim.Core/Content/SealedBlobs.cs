using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Fim.Core.Baseline;

namespace Fim.Core.Content;

/// <summary>
/// One small file per monitored path in a directory of the state directory (mode 0700, files 0600), each sealed with
/// the baseline key and bound to its path and purpose, so a copy edited, swapped between paths or taken from another
/// agent fails its seal. Written under a temporary name and renamed into place: a crash leaves the old blob or the new
/// one, never half of one. Tracks the bytes it holds for a quota. Used from one thread (the policy's loop).
/// </summary>
internal sealed class SealedBlobs
{
    private const string TempSuffix = ".tmp";
    private const int MacSize = 32;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = OwnerOnlyFile | UnixFileMode.UserExecute;
    private static ReadOnlySpan<byte> Magic => "FIMSEAL1"u8;

    private readonly BaselineKey _key;
    private readonly byte[] _purpose;
    private readonly Dictionary<string, long> _sizes = new(StringComparer.Ordinal);

    public SealedBlobs(string directory, BaselineKey key, string purpose)
    {
        Directory = directory;
        _key = key;
        _purpose = Encoding.UTF8.GetBytes(purpose + "\0");
        System.IO.Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        foreach (var file in System.IO.Directory.EnumerateFiles(directory))
        {
            if (file.EndsWith(TempSuffix, StringComparison.Ordinal))
            {
                File.Delete(file); // left by a crash while writing; never a valid blob
                continue;
            }
            var length = new FileInfo(file).Length;
            _sizes[Path.GetFileName(file)] = length;
            TotalBytes += length;
        }
    }

    public string Directory { get; }

    /// <summary>Bytes of all blobs on disk.</summary>
    public long TotalBytes { get; private set; }

    public int Count => _sizes.Count;

    public static string NameOf(ReadOnlySpan<byte> path) => Convert.ToHexStringLower(SHA256.HashData(path));

    public string FileOf(ReadOnlySpan<byte> path) => Path.Combine(Directory, NameOf(path));

    public bool Exists(ReadOnlySpan<byte> path) => _sizes.ContainsKey(NameOf(path));

    public long SizeOf(ReadOnlySpan<byte> path) => _sizes.GetValueOrDefault(NameOf(path));

    /// <summary>Bytes a blob of <paramref name="payloadLength"/> takes on disk.</summary>
    public static long StoredSize(int pathLength, int payloadLength) => Magic.Length + MacSize + 4 + pathLength + payloadLength;

    /// <summary>Reads the blob of <paramref name="path"/>: missing, valid (with its payload) or invalid (failed its seal).</summary>
    public BlobRead TryRead(ReadOnlySpan<byte> path, out byte[] payload)
    {
        payload = [];
        byte[] data;
        try
        {
            data = File.ReadAllBytes(FileOf(path));
        }
        catch (FileNotFoundException)
        {
            return BlobRead.Missing;
        }
        var header = Magic.Length + MacSize + 4;
        if (data.Length < header || !data.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            return BlobRead.Invalid;
        }
        var pathLength = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(Magic.Length + MacSize));
        if (pathLength != path.Length || data.Length < header + pathLength || !data.AsSpan(header, pathLength).SequenceEqual(path))
        {
            return BlobRead.Invalid;
        }
        var body = data.AsSpan(Magic.Length + MacSize);
        if (!CryptographicOperations.FixedTimeEquals(Mac(body), data.AsSpan(Magic.Length, MacSize)))
        {
            return BlobRead.Invalid;
        }
        payload = data.AsSpan(header + pathLength).ToArray();
        return BlobRead.Valid;
    }

    /// <summary>The monitored path a blob file names (unverified: for housekeeping only), or null when it is not one.</summary>
    public IEnumerable<(string File, byte[]? Path)> Entries()
    {
        foreach (var name in _sizes.Keys.ToList())
        {
            var file = Path.Combine(Directory, name);
            byte[]? path = null;
            try
            {
                using var stream = File.OpenRead(file);
                Span<byte> head = stackalloc byte[8 + MacSize + 4];
                if (stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length)
                {
                    var length = BinaryPrimitives.ReadInt32LittleEndian(head[(8 + MacSize)..]);
                    if (length is > 0 and <= 1 << 20)
                    {
                        var bytes = new byte[length];
                        if (stream.ReadAtLeast(bytes, length, throwOnEndOfStream: false) == length)
                        {
                            path = bytes;
                        }
                    }
                }
            }
            catch (IOException)
            {
            }
            yield return (file, path);
        }
    }

    public void Write(ReadOnlySpan<byte> path, ReadOnlySpan<byte> payload)
    {
        var name = NameOf(path);
        var file = Path.Combine(Directory, name);
        var temp = file + TempSuffix;
        var body = new byte[4 + path.Length + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(body, path.Length);
        path.CopyTo(body.AsSpan(4));
        payload.CopyTo(body.AsSpan(4 + path.Length));
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, BufferSize = 0, UnixCreateMode = OwnerOnlyFile };
        using (var stream = new FileStream(temp, options))
        {
            stream.Write(Magic);
            stream.Write(Mac(body));
            stream.Write(body);
            // No fsync per blob (thousands per batch): a blob a crash left short or empty fails its seal on the next
            // read, which is reported and replaced, never used.
        }
        File.Move(temp, file, overwrite: true);
        var size = Magic.Length + MacSize + body.Length;
        TotalBytes += size - _sizes.GetValueOrDefault(name);
        _sizes[name] = size;
    }

    public void Remove(ReadOnlySpan<byte> path) => RemoveFile(NameOf(path));

    public void RemoveFile(string fileOrName)
    {
        var name = Path.GetFileName(fileOrName);
        File.Delete(Path.Combine(Directory, name));
        if (_sizes.Remove(name, out var size))
        {
            TotalBytes -= size;
        }
    }

    private byte[] Mac(ReadOnlySpan<byte> body)
    {
        using var mac = _key.CreateMac();
        mac.AppendData(_purpose);
        mac.AppendData(body);
        return mac.GetHashAndReset();
    }
}

internal enum BlobRead
{
    Missing,
    Valid,
    Invalid,
}
