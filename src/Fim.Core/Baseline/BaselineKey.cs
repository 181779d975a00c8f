using System.Security.Cryptography;
using Fim.Core.Model;
using Fim.Core.Native;

namespace Fim.Core.Baseline;

/// <summary>
/// The secret that seals the baseline (HMAC-SHA256). It lives outside the state directory so that a copy of
/// the store alone can be neither forged nor silently swapped for another one.
/// </summary>
public sealed class BaselineKey
{
    public const int KeySize = 32;

    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = OwnerOnlyFile | UnixFileMode.UserExecute;
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly byte[] _key;

    private BaselineKey(byte[] key, string filePath)
    {
        _key = key;
        FilePath = filePath;
        KeyId = Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 8));
    }

    /// <summary>First 8 bytes of SHA-256(key), hex: names the key in store headers and messages without revealing it.</summary>
    public string KeyId { get; }

    public string FilePath { get; }

    /// <summary>Loads the key file, creating a random key (mode 0600, parent directory 0700) when it does not exist.</summary>
    public static BaselineKey LoadOrCreate(string keyFile)
    {
        var path = Path.GetFullPath(keyFile);
        if (!Path.Exists(path))
        {
            Create(path);
        }
        return Load(path);
    }

    /// <summary>
    /// Loads an existing key file; throws <see cref="BaselineKeyException"/> when it is missing, unreadable, not
    /// 32 bytes, not a regular file, accessible to group or others (mode must be 0600 or stricter), or owned by
    /// another user than the agent's: whoever can read the key can re-seal a forged baseline, whoever owns it can
    /// replace it. A symbolic link is followed (a Kubernetes Secret volume is made of them) and its target checked.
    /// </summary>
    public static BaselineKey Load(string keyFile)
    {
        var path = Path.GetFullPath(keyFile);
        if (!OperatingSystem.IsWindows())
        {
            CheckFile(path);
        }
        byte[] key;
        try
        {
            // At most one byte more than a key: a key path pointing at a large file is refused without reading it.
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            var buffer = new byte[KeySize + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = RandomAccess.Read(handle, buffer.AsSpan(length), length)) > 0)
            {
                length += read;
            }
            key = buffer[..length];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BaselineKeyException(path, $"Cannot read the baseline key file {path}: {e.Message}", e);
        }
        if (key.Length != KeySize)
        {
            throw new BaselineKeyException(path,
                $"The baseline key file {path} holds {(key.Length > KeySize ? "more than " + KeySize : key.Length)} bytes, but a baseline key is exactly {KeySize} bytes: " +
                "it is not a key file or it was damaged. Restore the right key file, or move it away and run " +
                "`fim-agent scan --rebaseline`, which creates a new key and records a new baseline.");
        }
        return new BaselineKey(key, path);
    }

    private static void CheckFile(string path)
    {
        var err = Posix.StatPath(PathBytes.FromString(path), followSymlinks: true, out var stat);
        if (err != 0)
        {
            throw new BaselineKeyException(path, $"Cannot read the baseline key file {path}: {Libc.Describe(err)}");
        }
        if (stat.Type != FileType.Regular)
        {
            throw new BaselineKeyException(path,
                $"The baseline key file {path} is a {stat.Type.ToName()}, not a regular file: point the key file setting at the 32-byte key.");
        }
        var mode = (UnixFileMode)(stat.Mode & 0xfff);
        if ((mode & GroupOrOther) != 0)
        {
            throw new BaselineKeyException(path,
                $"The baseline key file {path} has mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}: group or other users can " +
                $"access it and could re-seal a forged baseline. Restrict it to its owner with `chmod 600 {path}` and check who copied it.");
        }
        var euid = Libc.geteuid();
        if (stat.Uid != euid)
        {
            throw new BaselineKeyException(path,
                $"The baseline key file {path} is owned by uid {stat.Uid}, not by the user the agent runs as (uid {euid}), who " +
                $"could replace it. Run `chown {euid} {path}` (and `chmod 600 {path}`) if it is the right key.");
        }
    }

    internal static BaselineKey FromBytes(byte[] key, string source = "(memory)") =>
        key.Length == KeySize ? new BaselineKey(key, source) : throw new ArgumentException($"a key is {KeySize} bytes", nameof(key));

    internal IncrementalHash CreateMac() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);

    /// <summary>HMAC-SHA256 of <paramref name="data"/> bound to <paramref name="purpose"/>: a seal for small state files next to the baseline.</summary>
    public byte[] Seal(string purpose, ReadOnlySpan<byte> data)
    {
        using var mac = CreateMac();
        mac.AppendData(System.Text.Encoding.UTF8.GetBytes(purpose + "\0"));
        mac.AppendData(data);
        return mac.GetHashAndReset();
    }

    /// <summary>Whether <paramref name="seal"/> is <see cref="Seal"/> of the same purpose and data (constant time).</summary>
    public bool Verify(string purpose, ReadOnlySpan<byte> data, ReadOnlySpan<byte> seal) =>
        CryptographicOperations.FixedTimeEquals(Seal(purpose, data), seal);

    private static void Create(string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        }
        // Written under a temporary name and linked into place, so a crash never leaves a short key file
        // and two agents starting at once end up with the same key.
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 0 };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnlyFile;
            }
            using (var file = new FileStream(temp, options))
            {
                file.Write(RandomNumberGenerator.GetBytes(KeySize));
                file.Flush(flushToDisk: true);
            }
            try
            {
                File.Move(temp, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                return; // another process created it first; use theirs
            }
            DirectorySync.Flush(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BaselineKeyException(path, $"Cannot create the baseline key file {path}: {e.Message}", e);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
