using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Scanning;
using Fim.Testing;

namespace Fim.Core.Tests.Scanning;

public sealed class ScannerTests : IDisposable
{
    private readonly ScanFixture _f = new();

    [Fact]
    public void Records_every_entry_with_stat_fields_and_the_sha256_of_regular_files()
    {
        _f.Write("a.txt", "hello");
        _f.Write("sub/b.txt", "");
        File.CreateSymbolicLink(_f.P("link"), "a.txt");

        var r = _f.Scan(new ScanOptions { RecordOnly = true });

        Assert.Empty(r.Issues);
        Assert.Equal(5, r.Updates.Count); // root, a.txt, sub, sub/b.txt, link
        var a = _f.Record("a.txt");
        Assert.Equal(FileType.Regular, a.Type);
        Assert.Equal(5, a.Size);
        Assert.Equal(ScanFixture.Sha256("hello"), ScanFixture.Hex(a.GetHash(HashAlgorithmKind.Sha256)));
        Assert.Equal(ScanFixture.Sha256(""), ScanFixture.Hex(_f.Record("sub/b.txt").GetHash(HashAlgorithmKind.Sha256)));
        var st = new FileInfo(_f.P("a.txt"));
        Assert.Equal((uint)st.UnixFileMode, _f.Record("a.txt").Mode);
        var link = _f.Record("link");
        Assert.Equal(FileType.Symlink, link.Type);
        Assert.Equal("a.txt", Encoding.UTF8.GetString(link.SymlinkTarget!));
        Assert.Null(link.Hashes);
        Assert.Equal("root", a.Owner);
    }

    [Fact]
    public void An_unchanged_rescan_reads_no_content_and_verify_full_rereads_all()
    {
        _f.Write("a.txt", "hello");
        _f.Write("b.txt", "world");
        _f.Scan(new ScanOptions { RecordOnly = true });

        var again = _f.Scan();
        Assert.Empty(again.Changes);
        Assert.Empty(again.Updates);
        Assert.Equal(0, again.Stats.BytesHashed);
        Assert.Equal(2, again.Stats.HashesReused);

        var full = _f.Scan(new ScanOptions { VerifyFull = true });
        Assert.Empty(full.Changes);
        Assert.Equal(10, full.Stats.BytesHashed);
    }

    [Fact]
    public void Content_changed_with_size_and_mtime_restored_is_caught_by_ctime_and_hash()
    {
        var path = _f.Write("same.txt", "aaaa");
        _f.Scan(new ScanOptions { RecordOnly = true });
        var mtime = File.GetLastWriteTimeUtc(path);
        File.WriteAllText(path, "bbbb");
        File.SetLastWriteTimeUtc(path, mtime);

        var change = Assert.Single(_f.Scan().Changes);

        Assert.Equal(ChangeKind.Modified, change.Kind);
        Assert.Contains("sha256", change.ChangedNames);
        Assert.Contains("ctime", change.ChangedNames);
        Assert.DoesNotContain("size", change.ChangedNames);
    }

    [Fact]
    public void Kinds_added_deleted_attributes_and_type_changed_are_classified()
    {
        _f.Write("del.txt", "d");
        _f.Write("mode.txt", "m");
        _f.Write("type", "t");
        _f.Scan(new ScanOptions { RecordOnly = true });
        File.Delete(_f.P("del.txt"));
        File.SetUnixFileMode(_f.P("mode.txt"), UnixFileMode.UserRead);
        File.Delete(_f.P("type"));
        Directory.CreateDirectory(_f.P("type"));
        _f.Write("new.txt", "n");

        var byPath = _f.Scan().Changes.ToDictionary(c => c.DisplayPath);

        Assert.Equal(ChangeKind.Deleted, byPath[_f.P("del.txt")].Kind);
        Assert.Equal(ChangeKind.Added, byPath[_f.P("new.txt")].Kind);
        Assert.Equal(ChangeKind.Attributes, byPath[_f.P("mode.txt")].Kind);
        Assert.Equal(["mode", "ctime"], byPath[_f.P("mode.txt")].ChangedNames);
        Assert.Equal(ChangeKind.TypeChanged, byPath[_f.P("type")].Kind);
        Assert.Equal(ChangeKind.Attributes, byPath[_f.Root].Kind); // the root directory's mtime and ctime moved
    }

    [Fact]
    public async Task Fifos_sockets_and_devices_are_recorded_by_attributes_and_never_opened()
    {
        ScanFixture.Sh("mkfifo", _f.P("fifo"));
        ScanFixture.Sh("mknod", _f.P("null-dev"), "c", "1", "3");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(_f.P("sock")));

        var scan = Task.Run(() => _f.Scan(new ScanOptions { RecordOnly = true }));

        var result = await Eventually.WithinAsync(scan, "the scan to finish without hanging on a special file");
        Assert.Empty(result.Issues);
        Assert.Equal(FileType.Fifo, _f.Record("fifo").Type);
        Assert.Equal(FileType.CharDevice, _f.Record("null-dev").Type);
        Assert.Equal(FileType.Socket, _f.Record("sock").Type);
        Assert.Null(_f.Record("fifo").Hashes);
    }

    [Fact]
    public void Odd_file_names_are_kept_byte_exact_including_invalid_utf8()
    {
        var dir = PathBytes.FromString(_f.Root);
        var latin1 = PathBytes.Join(dir, [0x63, 0x61, 0x66, 0xE9, 0x2E, 0x74, 0x78, 0x74]); // "caf\xe9.txt"
        CreateFile(latin1, "x");
        _f.Write("new\nline", "n");
        _f.Write("-leading-dash", "d");
        _f.Write("sp ace", "s");
        _f.Write("ünïcödé", "u");

        _f.Scan(new ScanOptions { RecordOnly = true });

        Assert.True(_f.Baseline.TryGet(latin1, out var record));
        Assert.Equal(1, record.Size);
        Assert.Equal(_f.Root + "/caf\\xe9.txt", PathBytes.ToDisplay(record.Path));
        foreach (var name in new[] { "new\nline", "-leading-dash", "sp ace", "ünïcödé" })
        {
            Assert.Equal(FileType.Regular, _f.Record(name).Type);
        }
        File.Delete(_f.P("sp ace"));
        Assert.Equal(_f.P("sp ace"), Assert.Single(_f.Scan().Changes, c => c.Kind == ChangeKind.Deleted).DisplayPath);
    }

    [Fact]
    public void Paths_longer_than_path_max_are_scanned()
    {
        var rel = string.Join('/', Enumerable.Range(0, 40).Select(i => new string((char)('a' + i % 26), 200)));
        var deep = _f.P(rel);
        MkdirDeep(_f.Root, rel);
        Assert.True(Encoding.UTF8.GetByteCount(deep) > 4096);

        var r = _f.Scan(new ScanOptions { RecordOnly = true });

        Assert.Empty(r.Issues);
        Assert.True(_f.Baseline.TryGet(PathBytes.FromString(deep), out var rec));
        Assert.Equal(FileType.Directory, rec.Type);
    }

    [Fact]
    public void Hard_links_are_two_entries_sharing_an_inode_and_a_new_link_changes_the_link_count()
    {
        _f.Write("one", "1");
        _f.Scan(new ScanOptions { RecordOnly = true });
        ScanFixture.Sh("ln", _f.P("one"), _f.P("two"));

        var changes = _f.Scan().Changes.ToDictionary(c => c.DisplayPath);

        Assert.Equal(ChangeKind.Added, changes[_f.P("two")].Kind);
        Assert.Contains("nlink", changes[_f.P("one")].ChangedNames);
        Assert.Equal(_f.Record("one").Inode, _f.Record("two").Inode);
        Assert.Equal(2u, _f.Record("two").LinkCount);
    }

    [Fact]
    public void A_sparse_file_larger_than_the_hash_limit_is_tracked_by_attributes()
    {
        var path = _f.P("sparse.img");
        using (var s = File.Create(path))
        {
            s.SetLength(5L * 1024 * 1024 * 1024);
        }

        var r = _f.Scan(new ScanOptions { RecordOnly = true });

        Assert.Equal(0, r.Stats.BytesHashed);
        var rec = _f.Record("sparse.img");
        Assert.Equal(5L * 1024 * 1024 * 1024, rec.Size);
        Assert.Equal(HashStatus.TooLarge, rec.HashStatus);
        using (var s = new FileStream(path, FileMode.Open))
        {
            s.SetLength(s.Length + 1);
        }
        Assert.Contains("size", Assert.Single(_f.Scan().Changes).ChangedNames);
    }

    [Fact]
    public async Task A_symlink_loop_followed_on_request_ends()
    {
        Directory.CreateDirectory(_f.P("d"));
        File.CreateSymbolicLink(_f.P("d/loop"), _f.P("d"));
        File.CreateSymbolicLink(_f.P("self"), "self");

        var scan = Task.Run(() => _f.Scan(new ScanOptions { RecordOnly = true }, _f.Policy(r => Follow(r))));

        await Eventually.WithinAsync(scan, "the scan to finish on a symlink loop");
        Assert.Equal(FileType.Symlink, _f.Record("self").Type); // a dangling loop stays a link
    }

    [Fact]
    public void A_directory_removed_during_the_scan_is_neither_recorded_nor_an_error()
    {
        _f.Write("big.bin", new string('x', 600_000));
        _f.Write("victim/inner.txt", "i");
        _f.Scan(new ScanOptions { RecordOnly = true });
        _f.Write("big.bin", new string('y', 600_000)); // forces a re-read, during which the directory goes
        var removed = 0;
        var options = new ScanOptions
        {
            Parallelism = 1,
            SeparateHashThreshold = long.MaxValue,
            AfterFirstChunk = _ =>
            {
                if (Interlocked.Exchange(ref removed, 1) == 0)
                {
                    Directory.Delete(_f.P("victim"), true);
                }
            },
        };

        var r = _f.Scan(options);

        Assert.Equal(1, removed);
        Assert.Empty(r.Issues);
        var deleted = r.Changes.Where(c => c.Kind == ChangeKind.Deleted).Select(c => c.DisplayPath).ToHashSet();
        Assert.Contains(_f.P("victim"), deleted);
        Assert.Contains(_f.P("victim/inner.txt"), deleted);
        Assert.False(_f.Baseline.TryGet(_f.B("victim"), out _));
    }

    [Fact]
    public void A_file_truncated_while_hashed_is_never_recorded_with_a_wrong_hash()
    {
        var content = new string('z', 1_000_000);
        var path = _f.Write("shrinking.log", content);
        var truncated = 0;
        var options = new ScanOptions
        {
            RecordOnly = true,
            AfterFirstChunk = p =>
            {
                if (Interlocked.Exchange(ref truncated, 1) == 0)
                {
                    File.WriteAllText(path, "short");
                }
            },
        };

        var r = _f.Scan(options);

        Assert.Equal(1, truncated);
        var rec = _f.Record("shrinking.log");
        Assert.Equal(HashStatus.Hashed, rec.HashStatus);
        Assert.Equal(5, rec.Size);
        Assert.Equal(ScanFixture.Sha256("short"), ScanFixture.Hex(rec.GetHash(HashAlgorithmKind.Sha256)));
        Assert.DoesNotContain(r.Issues, i => i.Kind == ScanIssueKind.Unstable);
    }

    [Fact]
    public void A_file_that_changes_on_every_read_is_reported_unstable_without_a_hash()
    {
        var path = _f.Write("busy.log", new string('z', 1_000_000));
        var n = 0;
        var options = new ScanOptions
        {
            RecordOnly = true,
            AfterFirstChunk = _ => File.AppendAllText(path, (n++).ToString()),
        };

        var r = _f.Scan(options);

        Assert.Equal(HashStatus.Unstable, _f.Record("busy.log").HashStatus);
        Assert.Null(_f.Record("busy.log").Hashes);
        Assert.Contains(r.Issues, i => i.Kind == ScanIssueKind.Unstable && i.Path == path);
    }

    [Fact]
    public void Every_requested_algorithm_matches_the_reference_implementation()
    {
        var data = new byte[3_000_000];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(_f.P("data.bin"), data);
        HashAlgorithmKind[] all = [HashAlgorithmKind.Sha256, HashAlgorithmKind.Sha512, HashAlgorithmKind.Sha1, HashAlgorithmKind.Md5, HashAlgorithmKind.Xxh128];

        _f.Scan(new ScanOptions { RecordOnly = true }, _f.Policy(r => WithHashes(r, all)));

        var rec = _f.Record("data.bin");
        Assert.Equal(SHA256.HashData(data), rec.GetHash(HashAlgorithmKind.Sha256));
        Assert.Equal(SHA512.HashData(data), rec.GetHash(HashAlgorithmKind.Sha512));
        Assert.Equal(SHA1.HashData(data), rec.GetHash(HashAlgorithmKind.Sha1));
        Assert.Equal(MD5.HashData(data), rec.GetHash(HashAlgorithmKind.Md5));
        Assert.Equal(System.IO.Hashing.XxHash128.Hash(data), rec.GetHash(HashAlgorithmKind.Xxh128));
    }

    [Fact]
    public void Excluded_paths_max_depth_and_nested_roots_are_respected()
    {
        _f.Write("keep/a.txt", "a");
        _f.Write("skip/b.txt", "b");
        _f.Write("x.swp", "s");
        _f.Write("l1/l2/l3/deep.txt", "d");
        var policy = _f.Policy(r => new CompiledPathRule
        {
            Root = r.Root,
            MaxDepth = 3,
            Exclude = [PathGlob.Compile(_f.P("skip")), PathGlob.Compile("*.swp")],
        });

        _f.Scan(new ScanOptions { RecordOnly = true }, policy);

        Assert.True(_f.Baseline.TryGet(_f.B("keep/a.txt"), out _));
        Assert.False(_f.Baseline.TryGet(_f.B("skip"), out _));
        Assert.False(_f.Baseline.TryGet(_f.B("skip/b.txt"), out _));
        Assert.False(_f.Baseline.TryGet(_f.B("x.swp"), out _));
        Assert.True(_f.Baseline.TryGet(_f.B("l1/l2/l3"), out _));
        Assert.False(_f.Baseline.TryGet(_f.B("l1/l2/l3/deep.txt"), out _));
    }

    private static CompiledPathRule Follow(CompiledPathRule r) => new() { Root = r.Root, FollowSymlinks = true };

    private static CompiledPathRule WithHashes(CompiledPathRule r, HashAlgorithmKind[] kinds) => new() { Root = r.Root, HashKinds = kinds };

    private static unsafe void CreateFile(byte[] path, string content)
    {
        var z = new byte[path.Length + 1];
        path.CopyTo(z, 0);
        fixed (byte* p = z)
        {
            var fd = open(p, 0x41 | 0x200, 0x1a4); // O_WRONLY|O_CREAT|O_TRUNC, 0644
            Assert.True(fd >= 0);
            var bytes = Encoding.UTF8.GetBytes(content);
            fixed (byte* b = bytes)
            {
                write(fd, b, bytes.Length);
            }
            close(fd);
        }
    }

    private static void MkdirDeep(string root, string relative)
    {
        // mkdir -p cannot take a path over PATH_MAX; create one level at a time from inside.
        // The path is the script's $1, never part of the script text.
        Fim.Testing.ChildProcess.Run("bash", ["-c", "for p in $(echo \"$1\" | tr / ' '); do mkdir \"$p\" && cd \"$p\" || exit 1; done", "mkdeep", relative],
            workingDirectory: root).EnsureSuccess();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int open(byte* path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe nint write(int fd, byte* buf, nint count);

    [DllImport("libc")]
    private static extern int close(int fd);

    public void Dispose() => _f.Dispose();
}
