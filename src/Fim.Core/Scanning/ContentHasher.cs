using System.IO.Hashing;
using System.Security.Cryptography;
using Fim.Core.Model;
using Fim.Core.Native;

namespace Fim.Core.Scanning;

/// <summary>
/// Hashes one regular file at a time with every requested algorithm in a single read pass. Never opens
/// anything that is not a regular file (O_NONBLOCK and an fstat check guard against a FIFO swapped in), and
/// only accepts a hash when the file's size, mtime, ctime and inode are the same before and after the read.
/// A read that would block (EAGAIN) ends the content: it is never retried in a loop. One instance per thread.
/// </summary>
internal sealed unsafe class ContentHasher : IDisposable
{
    private const int MaxAttempts = 3;
    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(256 * 1024, pinned: true);
    private readonly IncrementalHash?[] _crypto = new IncrementalHash?[HashAlgorithmNames.Count];
    private XxHash128? _xxh128;
    private readonly ScanThrottle? _throttle;
    private readonly Action<byte[]>? _afterFirstChunk;
    private readonly CancellationToken _ct;
    private bool _noAtime = true;

    /// <param name="ct">Checked between chunks, so a scan stops within one read of a signal even inside a large file.</param>
    public ContentHasher(ScanThrottle? throttle, Action<byte[]>? afterFirstChunk = null, CancellationToken ct = default)
    {
        _throttle = throttle;
        _afterFirstChunk = afterFirstChunk;
        _ct = ct;
    }

    /// <summary>The read call; tests replace it to play a file that answers EAGAIN (as /proc/kmsg does).</summary>
    internal ReadFunction Read { get; init; } = static (fd, buffer, count) => Libc.read(fd, (byte*)buffer, count);

    internal delegate nint ReadFunction(int fd, nint buffer, nint count);

    public long BytesRead { get; private set; }

    public int Errno { get; private set; }

    /// <param name="dirFd">Directory to open <paramref name="nameZ"/> in, or AT_FDCWD with an absolute path.</param>
    /// <param name="stat">The file's attributes as read from the open descriptor, consistent with the hashes.</param>
    public HashOutcome Hash(
        int dirFd, byte[] nameZ, byte[] displayPath, IReadOnlyList<HashAlgorithmKind> kinds, long maxSize,
        out FileStat stat, out byte[]?[]? hashes)
    {
        hashes = null;
        stat = default;
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var err = Open(dirFd, nameZ, out var fd);
            if (err != 0)
            {
                Errno = err;
                return err switch
                {
                    Libc.ENOENT or Libc.ENOTDIR => HashOutcome.Vanished,
                    Libc.ELOOP => HashOutcome.Replaced,
                    _ => HashOutcome.Unreadable,
                };
            }
            try
            {
                if (Posix.FStat(fd, out var before) != 0)
                {
                    Errno = Libc.LastError;
                    return HashOutcome.Unreadable;
                }
                stat = before;
                if (before.Type != FileType.Regular)
                {
                    return HashOutcome.Replaced;
                }
                if (before.Size > maxSize)
                {
                    return HashOutcome.TooLarge;
                }
                Libc.posix_fadvise(fd, 0, 0, Libc.POSIX_FADV_SEQUENTIAL);
                var total = ReadAll(fd, kinds, displayPath, out var readErr);
                if (readErr != 0)
                {
                    // The chunks read before the error are in the running digests: drop them, or the next file this
                    // hasher reads would get a digest of both.
                    Finish(kinds);
                    Errno = readErr;
                    return HashOutcome.Unreadable;
                }
                if (Posix.FStat(fd, out var after) != 0)
                {
                    Errno = Libc.LastError;
                    return HashOutcome.Unreadable;
                }
                stat = after;
                if (total == before.Size && total == after.Size && !before.ContentMayDiffer(after))
                {
                    hashes = Finish(kinds);
                    return HashOutcome.Hashed;
                }
                Finish(kinds);
            }
            finally
            {
                Libc.close(fd);
            }
        }
        return HashOutcome.Unstable;
    }

    private int Open(int dirFd, byte[] nameZ, out int fd)
    {
        const int flags = Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_NOFOLLOW | Libc.O_NOCTTY;
        if (_noAtime)
        {
            // O_NOATIME keeps the scan from disturbing access times (forensics), but needs ownership or CAP_FOWNER.
            var err = Posix.OpenAt(dirFd, nameZ, flags | Libc.O_NOATIME, out fd);
            if (err != Libc.EPERM)
            {
                return err;
            }
            _noAtime = false;
        }
        return Posix.OpenAt(dirFd, nameZ, flags, out fd);
    }

    private long ReadAll(int fd, IReadOnlyList<HashAlgorithmKind> kinds, byte[] displayPath, out int errno)
    {
        errno = 0;
        long total = 0;
        var first = true;
        fixed (byte* buf = _buffer)
        {
            while (true)
            {
                _ct.ThrowIfCancellationRequested();
                var n = Read(fd, (nint)buf, _buffer.Length);
                if (n < 0)
                {
                    var err = Libc.LastError;
                    if (err == Libc.EINTR)
                    {
                        continue;
                    }
                    if (err == Libc.EAGAIN)
                    {
                        // O_NONBLOCK is there so a FIFO swapped in cannot block the scan; a file that would block
                        // (a pseudo file such as /proc/kmsg) has no content to give now. Retrying would spin forever.
                        return total;
                    }
                    errno = err;
                    return total;
                }
                if (n == 0)
                {
                    return total;
                }
                var chunk = new ReadOnlySpan<byte>(_buffer, 0, (int)n);
                foreach (var kind in kinds)
                {
                    Append(kind, chunk);
                }
                total += n;
                BytesRead += n;
                _throttle?.AcquireBytes(n);
                if (first)
                {
                    first = false;
                    _afterFirstChunk?.Invoke(displayPath);
                }
            }
        }
    }

    private void Append(HashAlgorithmKind kind, ReadOnlySpan<byte> data)
    {
        if (kind == HashAlgorithmKind.Xxh128)
        {
            (_xxh128 ??= new XxHash128()).Append(data);
            return;
        }
        (_crypto[(int)kind] ??= IncrementalHash.CreateHash(kind switch
        {
            HashAlgorithmKind.Sha256 => HashAlgorithmName.SHA256,
            HashAlgorithmKind.Sha512 => HashAlgorithmName.SHA512,
            HashAlgorithmKind.Sha1 => HashAlgorithmName.SHA1,
            HashAlgorithmKind.Md5 => HashAlgorithmName.MD5,
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        })).AppendData(data);
    }

    private byte[]?[] Finish(IReadOnlyList<HashAlgorithmKind> kinds)
    {
        var result = new byte[]?[HashAlgorithmNames.Count];
        foreach (var kind in kinds)
        {
            if (kind == HashAlgorithmKind.Xxh128)
            {
                _xxh128 ??= new XxHash128();
                result[(int)kind] = _xxh128.GetHashAndReset();
            }
            else
            {
                // An algorithm never appended to (empty file) still has to yield the empty-input digest.
                if (_crypto[(int)kind] is null)
                {
                    Append(kind, []);
                }
                result[(int)kind] = _crypto[(int)kind]!.GetHashAndReset();
            }
        }
        return result;
    }

    public void Dispose()
    {
        foreach (var h in _crypto)
        {
            h?.Dispose();
        }
    }
}
