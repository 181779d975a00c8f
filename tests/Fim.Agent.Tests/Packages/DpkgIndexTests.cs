using Fim.Agent.Packages;
using Fim.Contracts;
using Fim.Core.Events;
using Fim.Core.Model;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fim.Agent.Tests.Packages;

/// <summary>
/// Issue 20: dpkg's index is packed (UTF-8 paths in one buffer, <see cref="PackagePathIndex"/>) instead of a dictionary
/// of strings. What it answers must not change: owners, digests, conffiles, paths shared by packages, paths with
/// non-ASCII names, and paths that left the database at a refresh. A dpkg database in a test root, read by the agent's code.
/// </summary>
public sealed class DpkgIndexTests : IDisposable
{
    private const string Md5A = "0123456789abcdef0123456789abcdef";
    private const string Md5Conf = "fedcba9876543210fedcba9876543210";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "fim-dpkg-" + Guid.NewGuid().ToString("N")[..10]);

    private string Admin => Path.Combine(_root, "var/lib/dpkg");

    [Fact]
    public void Owners_digests_conffiles_and_shared_directories_come_from_the_packed_index()
    {
        WriteDatabase(bVersion: "2.0", bFiles: ["/usr", "/usr/bin", "/usr/bin/b", "/usr/bin/b-old"]);
        var db = new DpkgDatabase(_root);

        Assert.True(db.Refresh());
        Assert.Equal(7, db.Count);
        var a = db.Find("/usr/bin/a");
        Assert.NotNull(a);
        Assert.Equal(("pkg-a", "1.0", Md5A, DigestAlgorithm.Md5, false), (a.Package, a.Version, a.Digest, a.Algorithm, a.Conffile));
        var conf = db.Find("/etc/a.conf");
        Assert.Equal(("pkg-a", Md5Conf, true), (conf!.Package, conf.Digest, conf.Conffile));
        Assert.Equal("pkg-a", db.Find("/usr/share/a/ünïcödé name")!.Package);
        Assert.Null(db.Find("/usr/bin/b")!.Digest);
        Assert.Null(db.Find("/usr/bin/c"));
        Assert.Null(db.Find("/usr/bin/"));
        Assert.Equal(["pkg-a", "pkg-b"], db.FindAll("/usr/bin").Select(o => o.Package).Order());
        Assert.Equal(["pkg-b"], db.FindAll("/usr/bin/b").Select(o => o.Package));
        Assert.False(db.Refresh());
    }

    [Fact]
    public void A_path_its_package_no_longer_lists_after_a_refresh_is_departed_with_its_former_owner()
    {
        WriteDatabase(bVersion: "2.0", bFiles: ["/usr", "/usr/bin", "/usr/bin/b", "/usr/bin/b-old"]);
        var db = new DpkgDatabase(_root);
        db.Refresh();
        Assert.Null(db.FindDeparted("/usr/bin/b-old"));

        WriteDatabase(bVersion: "2.1", bFiles: ["/usr", "/usr/bin", "/usr/bin/b"]);
        Assert.True(db.Refresh());

        Assert.Null(db.Find("/usr/bin/b-old"));
        var gone = db.FindDeparted("/usr/bin/b-old");
        Assert.Equal(("pkg-b", "2.0"), (gone!.Package, gone.Version));
        Assert.Equal("2.1", db.Find("/usr/bin/b")!.Version);
        Assert.Null(db.FindDeparted("/usr/bin/b"));

        // Listed again later: no longer departed.
        WriteDatabase(bVersion: "2.2", bFiles: ["/usr", "/usr/bin", "/usr/bin/b", "/usr/bin/b-old"]);
        Assert.True(db.Refresh());
        Assert.Null(db.FindDeparted("/usr/bin/b-old"));
        Assert.Equal("2.2", db.Find("/usr/bin/b-old")!.Version);
    }

    [Fact]
    public void The_packed_index_grows_past_its_first_buffers_and_finds_every_path()
    {
        var index = new PackagePathIndex();
        for (var i = 0; i < 20_000; i++)
        {
            Assert.True(index.TryAdd($"/usr/share/doc/package-{i}/copyright", new PackagePathEntry(i, (UInt128)i, true, false), out var n));
            Assert.Equal(i, n);
        }
        Assert.False(index.TryAdd("/usr/share/doc/package-7/copyright", default, out var existing));
        Assert.Equal(7, existing);
        index.Set("/usr/share/doc/package-7/copyright", new PackagePathEntry(70, UInt128.MaxValue, true, true));
        index.Trim();

        Assert.Equal(20_000, index.Count);
        for (var i = 0; i < 20_000; i += 997)
        {
            Assert.True(index.TryGet($"/usr/share/doc/package-{i}/copyright", out var e, out _));
            Assert.Equal(i == 7 ? (70, UInt128.MaxValue) : (i, (UInt128)i), (e.Package, e.Md5));
        }
        Assert.True(index.TryGet("/usr/share/doc/package-7/copyright", out var replaced, out _) && replaced.Conffile);
        Assert.False(index.TryGet("/usr/share/doc/package-20000/copyright", out _, out _));
        Assert.Equal("/usr/share/doc/package-19999/copyright", index.PathOf(19_999));
    }

    [Fact]
    public void A_scoped_index_keeps_only_the_paths_below_its_roots_and_the_packages_listing_them()
    {
        WriteDatabase(bVersion: "2.0", bFiles: ["/usr", "/usr/bin", "/usr/bin/b", "/usr/bin/b-old"]);
        var db = new DpkgDatabase(_root) { Scope = new PackageScope(["/etc/"]) };

        Assert.True(db.Refresh());
        Assert.Equal(1, db.Count);
        Assert.Equal(1, db.PackageCount);
        var conf = db.Find("/etc/a.conf");
        Assert.Equal(("pkg-a", "1.0", Md5Conf, true), (conf!.Package, conf.Version, conf.Digest, conf.Conffile));
        Assert.Null(db.Find("/usr/bin/a"));
        Assert.False(db.Refresh());

        // A wider scope is read again at the next refresh, though dpkg's database did not change.
        db.Scope = new PackageScope(["/etc", "/usr/bin"]);
        Assert.True(db.Refresh());
        Assert.Equal(("pkg-a", Md5A), (db.Find("/usr/bin/a")!.Package, db.Find("/usr/bin/a")!.Digest));
        Assert.Equal(["pkg-a", "pkg-b"], db.FindAll("/usr/bin").Select(o => o.Package).Order());
        Assert.Null(db.Find("/usr"));
        Assert.Equal(2, db.PackageCount);

        // Leaving the scope is not leaving the database: nothing departs.
        db.Scope = new PackageScope(["/etc"]);
        Assert.True(db.Refresh());
        Assert.Null(db.Find("/usr/bin/b-old"));
        Assert.Null(db.FindDeparted("/usr/bin/b-old"));

        // A path dpkg drops while it is in scope still departs with its owner.
        db.Scope = new PackageScope(["/usr/bin"]);
        db.Refresh();
        WriteDatabase(bVersion: "2.1", bFiles: ["/usr", "/usr/bin", "/usr/bin/b"]);
        Assert.True(db.Refresh());
        Assert.Equal(("pkg-b", "2.0"), (db.FindDeparted("/usr/bin/b-old")!.Package, db.FindDeparted("/usr/bin/b-old")!.Version));

        db.Scope = PackageScope.Nothing;
        Assert.True(db.Refresh());
        Assert.Equal((0, 0), (db.Count, db.PackageCount));
    }

    [Fact]
    public void A_scope_covers_its_roots_and_what_is_below_them_by_whole_components()
    {
        var scope = new PackageScope(["/usr/bin/", "/usr", "/etc/ssh", "/etc/ssh/sshd_config"]);
        Assert.Equal(["/etc/ssh", "/usr"], scope.Roots);
        Assert.True(scope.Covers("/usr"));
        Assert.True(scope.Covers("/usr/bin/ls"));
        Assert.False(scope.Covers("/usr2/x"));
        Assert.False(scope.Covers("/etc/sshd"));
        Assert.False(scope.Covers("/etc"));
        Assert.True(PackageScope.Everything.Covers("/anything/at/all"));
        Assert.False(PackageScope.Nothing.Covers("/usr"));
        Assert.True(new PackageScope(["/etc", "/"]).IsEverything);
        Assert.Equal(new PackageScope(["/usr", "/etc"]), PackageScope.Union([new PackageScope(["/etc"]), new PackageScope(["/usr/"])]));
    }

    [Fact]
    public void Awareness_indexes_what_its_policies_cover_and_forgets_it_when_they_stop()
    {
        WriteDatabase(bVersion: "2.0", bFiles: ["/usr", "/usr/bin", "/usr/bin/b"]);
        var db = new DpkgDatabase(_root);
        var awareness = new PackageAwareness([db], TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(1), TimeProvider.System, NullLogger.Instance,
            PackageScope.Nothing).Prime();
        Assert.Equal(0, db.Count);
        Assert.Null(Annotate(awareness, "/usr/bin/a").Package);

        var first = awareness.Cover(["/usr/bin"]);
        var second = awareness.Cover(["/etc"]);
        // At once, without waiting for the background read: the next annotation reads the new scope itself.
        Assert.Equal("pkg-a", Annotate(awareness, "/usr/bin/a").Package?.Name);
        Assert.Equal("pkg-a", db.Find("/etc/a.conf")?.Package);
        Assert.Equal(new PackageScope(["/usr/bin", "/etc"]), awareness.Scope);

        first.Dispose();
        Assert.Null(Annotate(awareness, "/usr/bin/a").Package);
        Assert.Equal(new PackageScope(["/etc"]), awareness.Scope);
        second.Dispose();
        second.Dispose();
        Assert.True(awareness.Scope.IsEmpty);
    }

    private FileEvent Annotate(PackageAwareness awareness, string hostPath, ChangeKind kind = ChangeKind.Modified)
    {
        var full = PathBytes.FromString(Path.Combine(_root, hostPath.TrimStart('/')));
        var record = new FileRecord { Path = full, Type = FileType.Regular };
        var change = new FileChange(kind, full, record, kind == ChangeKind.Deleted ? null : record, ChangedAttributes.Size, DetectionSource.Realtime,
            DateTimeOffset.UtcNow, "p");
        var e = EventRecords.From(change, new EventOrigin("a", "h", _root), "a:b:1");
        Assert.Equal(hostPath, e.Path);
        awareness.Annotate(change, e);
        return e;
    }

    private void WriteDatabase(string bVersion, string[] bFiles)
    {
        Directory.CreateDirectory(Path.Combine(Admin, "info"));
        Replace(Path.Combine(Admin, "status"), $"""
            Package: pkg-a
            Status: install ok installed
            Architecture: amd64
            Version: 1.0
            Conffiles:
             /etc/a.conf {Md5Conf}

            Package: pkg-b
            Status: install ok installed
            Architecture: amd64
            Version: {bVersion}

            Package: pkg-gone
            Status: deinstall ok config-files
            Architecture: amd64
            Version: 0.1

            """);
        Replace(Path.Combine(Admin, "info/pkg-a.list"), "/.\n/usr\n/usr/bin\n/usr/bin/a\n/etc/a.conf\n/usr/share/a/ünïcödé name\n");
        Replace(Path.Combine(Admin, "info/pkg-a.md5sums"), $"{Md5A}  usr/bin/a\n");
        Replace(Path.Combine(Admin, "info/pkg-b.list"), string.Join('\n', bFiles) + "\n");
        Replace(Path.Combine(Admin, "info/pkg-gone.list"), "/usr/bin/gone\n");
    }

    // dpkg replaces its files by rename: a new inode, so the database's stamps change even within one clock tick.
    private static void Replace(string path, string text)
    {
        var temp = path + ".new";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
