using System.Security.Cryptography;

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

    private BaselineKey(byte[] key, string filePath, string? permissionWarning)
    {
        _key = key;
        FilePath = filePath;
        PermissionWarning = permissionWarning;
        KeyId = Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 8));
    }

    /// <summary>First 8 bytes of SHA-256(key), hex: names the key in store headers and messages without revealing it.</summary>
    public string KeyId { get; }

    public string FilePath { get; }

    /// <summary>Set when group or others have any access to the key file; the caller should log it.</summary>
    public string? PermissionWarning { get; }

    /// <summary>Loads the key file, creating a random key (mode 0600, parent directory 0700) when it does not exist.</summary>
    public static BaselineKey LoadOrCreate(string keyFile)
    {
        var path = Path.GetFullPath(keyFile);
        if (!File.Exists(path))
        {
            Create(path);
        }
        return Load(path);
    }

    /// <summary>Loads an existing key file; throws <see cref="BaselineKeyException"/> when it is missing, unreadable or not 32 bytes.</summary>
    public static BaselineKey Load(string keyFile)
    {
        var path = Path.GetFullPath(keyFile);
        byte[] key;
        try
        {
            key = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BaselineKeyException(path, $"Cannot read the baseline key file {path}: {e.Message}", e);
        }
        if (key.Length != KeySize)
        {
            throw new BaselineKeyException(path,
                $"The baseline key file {path} holds {key.Length} bytes, but a baseline key is exactly {KeySize} bytes: " +
                "it is not a key file or it was damaged. Restore the right key file, or move it away and run " +
                "`fim-agent scan --rebaseline`, which creates a new key and records a new baseline.");
        }
        string? warning = null;
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & GroupOrOther) != 0)
            {
                warning = $"The baseline key file {path} has mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')} and is " +
                    $"accessible to other users, who could forge a baseline; run `chmod 600 {path}`.";
            }
        }
        return new BaselineKey(key, path, warning);
    }

    internal static BaselineKey FromBytes(byte[] key, string source = "(memory)") =>
        key.Length == KeySize ? new BaselineKey(key, source, null) : throw new ArgumentException($"a key is {KeySize} bytes", nameof(key));

    internal IncrementalHash CreateMac() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);

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
