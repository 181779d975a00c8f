using System.Runtime.InteropServices;
using Fim.Core.Model;
using Fim.Core.Native;
using Fim.Core.Scanning;

namespace Fim.Core.Tests.Scanning;

/// <summary>A hasher serves file after file (a walk worker's, the realtime observer's): nothing of one file may reach the next.</summary>
public sealed class HasherReuseTests : IDisposable
{
    private readonly ScanFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void A_read_error_in_the_middle_of_a_file_leaves_nothing_in_the_digest_of_the_next()
    {
        _f.Write("broken", new string('b', 100_000));
        _f.Write("next", "the next file");
        var real = new ContentHasher(null).Read;
        var failing = true;
        var reads = 0;
        using var hasher = new ContentHasher(null)
        {
            Read = (fd, buffer, count) =>
            {
                if (!failing)
                {
                    return real(fd, buffer, count);
                }
                if (reads++ == 0)
                {
                    return real(fd, buffer, Math.Min(count, 4096));
                }
                Marshal.SetLastPInvokeError(Libc.EIO);
                return -1;
            },
        };

        var broken = hasher.Hash(Libc.AT_FDCWD, Posix.Z(_f.B("broken")), _f.B("broken"), [HashAlgorithmKind.Sha256], long.MaxValue, out _, out _);
        failing = false;
        var next = hasher.Hash(Libc.AT_FDCWD, Posix.Z(_f.B("next")), _f.B("next"), [HashAlgorithmKind.Sha256], long.MaxValue, out _, out var hashes);

        Assert.Equal(HashOutcome.Unreadable, broken);
        Assert.Equal(Libc.EIO, hasher.Errno);
        Assert.Equal(HashOutcome.Hashed, next);
        Assert.Equal(ScanFixture.Sha256("the next file"), ScanFixture.Hex(hashes![(int)HashAlgorithmKind.Sha256]));
    }

    [Fact]
    public void Realtime_observations_reuse_one_hasher_instead_of_a_pinned_buffer_each()
    {
        _f.Write("watched", "v0");
        var scanner = new Scanner(_f.Policy());
        var path = _f.B("watched");
        scanner.Observe(_f.Baseline, path);
        const int Observations = 200;

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Observations; i++)
        {
            File.AppendAllText(_f.P("watched"), "x");
            var (change, _) = scanner.Observe(_f.Baseline, path);
            Assert.NotNull(change);
        }
        var perObservation = (GC.GetAllocatedBytesForCurrentThread() - before) / Observations;

        // A new hasher's read buffer alone is 256 KB; the record, change and file I/O of one observation are a few KB.
        Assert.True(perObservation < 32 * 1024, $"{perObservation:N0} bytes allocated per observation");
    }
}
