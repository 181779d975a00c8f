using System.Diagnostics;
using System.Security.Cryptography;
using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Core.Tests.Baseline;

/// <summary>A fresh directory under the system temp dir, removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fim-baseline-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string StateDir => System.IO.Path.Combine(Path, "state");

    public string KeyFile => System.IO.Path.Combine(Path, "keys", "baseline.key");

    public string File(string name) => System.IO.Path.Combine(StateDir, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class TestRecords
{
    public static FileRecord Make(int i, string prefix = "/etc")
    {
        var path = PathBytes.FromString($"{prefix}/dir{i % 97}/file-{i:D7}.conf");
        return new FileRecord
        {
            Path = path,
            Type = FileType.Regular,
            Mode = 0x1a4,
            Uid = (uint)(i % 3),
            Gid = (uint)(i % 5),
            Owner = i % 3 == 0 ? "root" : "svc" + (i % 3),
            Group = i % 5 == 0 ? "root" : "grp" + (i % 5),
            Size = i * 17L,
            MtimeNs = 1_700_000_000_000_000_000 + i,
            CtimeNs = 1_700_000_000_000_000_123 + i,
            Inode = (ulong)i + 100_000,
            Device = 0x803,
            LinkCount = 1,
            HashStatus = HashStatus.Hashed,
            Hashes = [SHA256.HashData(path)],
        };
    }

    public static List<FileRecord> Many(int count, string prefix = "/etc") =>
        Enumerable.Range(0, count).Select(i => Make(i, prefix)).ToList();

    public static FileRecord Modified(FileRecord r) => r.With(b =>
    {
        b.Size += 1;
        b.MtimeNs += 1_000_000_000;
        b.Hashes = [SHA256.HashData(BitConverter.GetBytes(b.Size))];
    });

    /// <summary>Asserts that the store holds exactly <paramref name="expected"/>, field by field.</summary>
    public static void AssertContainsExactly(IEnumerable<FileRecord> expected, BaselineRecords actual)
    {
        var count = 0;
        foreach (var e in expected)
        {
            Assert.True(actual.TryGet(e.Path, out var a), $"missing {PathBytes.ToDisplay(e.Path)}");
            AssertEqual(e, a);
            count++;
        }
        Assert.Equal(count, actual.Count);
    }

    public static void AssertEqual(FileRecord e, FileRecord a)
    {
        Assert.Equal(e.Path, a.Path);
        Assert.Equal(e.Type, a.Type);
        Assert.Equal(e.Mode, a.Mode);
        Assert.Equal(e.Uid, a.Uid);
        Assert.Equal(e.Gid, a.Gid);
        Assert.Equal(e.Owner, a.Owner);
        Assert.Equal(e.Group, a.Group);
        Assert.Equal(e.Size, a.Size);
        Assert.Equal(e.MtimeNs, a.MtimeNs);
        Assert.Equal(e.CtimeNs, a.CtimeNs);
        Assert.Equal(e.Inode, a.Inode);
        Assert.Equal(e.Device, a.Device);
        Assert.Equal(e.LinkCount, a.LinkCount);
        Assert.Equal(e.SymlinkTarget, a.SymlinkTarget);
        Assert.Equal(e.HashStatus, a.HashStatus);
        Assert.Equal(e.Hashes is null, a.Hashes is null);
        if (e.Hashes is not null)
        {
            Assert.Equal(e.Hashes.Length, a.Hashes!.Length);
            for (var i = 0; i < e.Hashes.Length; i++)
            {
                Assert.Equal(e.Hashes[i], a.Hashes[i]);
            }
        }
        Assert.Equal(e.Xattrs is null, a.Xattrs is null);
        if (e.Xattrs is not null)
        {
            Assert.Equal(e.Xattrs.Select(x => x.Key), a.Xattrs!.Select(x => x.Key));
            Assert.Equal(e.Xattrs.Select(x => x.Value), a.Xattrs!.Select(x => x.Value));
        }
    }
}

internal static class StoreFiles
{
    public static void FlipByte(string file, long offset)
    {
        using var f = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        f.Position = offset;
        var b = f.ReadByte();
        f.Position = offset;
        f.WriteByte((byte)(b ^ 0x5a));
    }

    public static void Truncate(string file, long length)
    {
        using var f = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        f.SetLength(length);
    }

    public static void RemoveRange(string file, long offset, int count)
    {
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, [.. bytes.AsSpan(0, (int)offset), .. bytes.AsSpan((int)offset + count)]);
    }
}

/// <summary>Mounting a tmpfs, to fill a real file system.</summary>
internal static class Tmpfs
{
    public static string? Mount(string directory, string size)
    {
        Directory.CreateDirectory(directory);
        return Run("mount", "-t", "tmpfs", "-o", $"size={size},mode=0700", "tmpfs", directory);
    }

    public static void Unmount(string directory) => Run("umount", directory);

    /// <summary>Null when mounting works here; otherwise why not.</summary>
    public static readonly Lazy<string?> Unavailable = new(() =>
    {
        if (!OperatingSystem.IsLinux())
        {
            return "tmpfs needs Linux";
        }
        var probe = Path.Combine(Path.GetTempPath(), "fim-tmpfs-probe-" + Guid.NewGuid().ToString("N"));
        try
        {
            var error = Mount(probe, "64k");
            if (error is null)
            {
                Unmount(probe);
            }
            return error;
        }
        finally
        {
            try
            {
                Directory.Delete(probe);
            }
            catch (IOException)
            {
            }
        }
    });

    private static string? Run(string command, params string[] args)
    {
        try
        {
            var r = Fim.Testing.ChildProcess.Run(command, args);
            return r.ExitCode == 0 ? null : $"`{r.CommandLine}` failed ({r.ExitCode}): {r.Stderr.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"cannot run {command}: {e.Message}";
        }
    }
}

/// <summary>A fact that is skipped, with the reason, where a tmpfs cannot be mounted (not root, no mount permission).</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (Tmpfs.Unavailable.Value is { } reason)
        {
            Skip = $"needs permission to mount a tmpfs (run as root): {reason}";
        }
    }
}
