using Fim.Agent.Packages;
using Fim.Contracts;
using Fim.Core.Events;
using Fim.Core.Model;
using Fim.Core.Rules;
using Fim.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fim.Agent.Tests.Packages;

/// <summary>
/// Issue 14, acceptance 1 (rpm): Debian's rpm tools build two versions of a package with rpmbuild and install them
/// into a test root's own rpm database (`--root --dbpath`, the host's untouched); the agent's package awareness reads
/// that database and the default rules judge its verdicts. The agent's code and the real rpm database, without the
/// NATS pipeline (the dpkg test in Fim.EndToEnd.Tests covers that path end to end).
/// </summary>
public sealed class RpmAwarenessTests : IDisposable
{
    private const string DbPath = "/var/lib/rpm";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fim-rpm-" + Guid.NewGuid().ToString("N")[..10]);

    private string Root => Path.Combine(_dir, "root");

    [Fact]
    public void An_rpm_upgrade_is_verified_with_its_versions_and_an_appended_or_replaced_binary_is_not()
    {
        Assert.True(File.Exists("/usr/bin/rpm") && File.Exists("/usr/bin/rpmbuild"), "Debian's rpm package (rpm, rpmbuild) is needed");
        var trueBinary = File.ReadAllBytes("/usr/bin/true");
        var v1 = Build("fimtest", "1.0", new() { ["/usr/bin/fimtest"] = trueBinary });
        var v2 = Build("fimtest", "2.0", new() { ["/usr/bin/fimtest"] = [.. trueBinary, .. "fimtest 2.0"u8] });
        var tool = Build("fimtool", "3.1", new() { ["/usr/bin/fimtool"] = File.ReadAllBytes("/usr/bin/false") });
        Directory.CreateDirectory(Root);
        Rpm("--initdb");
        Rpm("-i", "--nodeps", "--nosignature", v1, tool);

        var awareness = new PackageAwareness([new RpmDatabase(Root)], TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(30), TimeProvider.System, NullLogger.Instance).Prime();
        Rpm("-U", "--nodeps", "--nosignature", v2);

        var upgraded = Annotate(awareness, "/usr/bin/fimtest");
        Assert.NotNull(upgraded.Package);
        Assert.Equal(PackageInfo.Rpm, upgraded.Package.Manager);
        Assert.Equal("fimtest", upgraded.Package.Name);
        Assert.Equal("1.0-1", upgraded.Package.VersionBefore);
        Assert.Equal("2.0-1", upgraded.Package.VersionAfter);
        Assert.True(upgraded.Package.Verified);
        Assert.Equal("570", Judge(upgraded).Rule.Id);
        Assert.Contains("package-update", Judge(upgraded).Tags);

        File.AppendAllText(At("/usr/bin/fimtest"), "x\n");
        var appended = Annotate(awareness, "/usr/bin/fimtest");
        Assert.False(appended.Package!.Verified);
        Assert.Equal("571", Judge(appended).Rule.Id);
        Assert.Equal(RuleSet.PackageModifiedLevel, Judge(appended).Level);

        var staged = Path.Combine(Root, "replacement");
        File.Copy(At("/usr/bin/fimtool"), staged);
        File.Move(staged, At("/usr/bin/fimtest"), overwrite: true);
        var replaced = Annotate(awareness, "/usr/bin/fimtest");
        Assert.Equal("fimtest", replaced.Package!.Name);
        Assert.False(replaced.Package.Verified);
        Assert.Equal("571", Judge(replaced).Rule.Id);

        // A file no package ships keeps today's levels.
        File.WriteAllText(At("/usr/bin/local-script"), "#!/bin/sh\n");
        var unpackaged = Annotate(awareness, "/usr/bin/local-script", ChangeKind.Added);
        Assert.Null(unpackaged.Package);
        Assert.Equal("554", Judge(unpackaged).Rule.Id);
    }

    private FileEvent Annotate(PackageAwareness awareness, string hostPath, ChangeKind kind = ChangeKind.Modified)
    {
        var full = PathBytes.FromString(At(hostPath));
        var record = new FileRecord { Path = full, Type = FileType.Regular };
        var change = new FileChange(kind, full, kind == ChangeKind.Added ? null : record, record, ChangedAttributes.Size, DetectionSource.Realtime, DateTimeOffset.UtcNow, "p");
        var e = EventRecords.From(change, new EventOrigin("a", "h", Root), "a:b:1");
        Assert.Equal(hostPath, e.Path);
        awareness.Annotate(change, e);
        _last = (change, e);
        return e;
    }

    private (FileChange Change, FileEvent Event) _last;

    private Alert Judge(FileEvent e) => RuleSet.Default.Evaluate(_last.Change, e, new AlertContext(new Dictionary<string, string>(), null, []))!;

    private string At(string hostPath) => Path.Combine(Root, hostPath.TrimStart('/'));

    private void Rpm(params string[] args) =>
        ChildProcess.Run("rpm", ["--root", Root, "--dbpath", DbPath, .. args], timeout: TimeSpan.FromMinutes(2)).EnsureSuccess();

    /// <summary>Builds name-version-1.x86_64.rpm from files (host path to content) with rpmbuild; returns its path.</summary>
    private string Build(string name, string version, Dictionary<string, byte[]> files)
    {
        var source = Path.Combine(_dir, $"src-{name}-{version}");
        foreach (var (path, content) in files)
        {
            var target = Path.Combine(source, path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, content);
            File.SetUnixFileMode(target, (UnixFileMode)0b111_101_101);
        }
        var spec = Path.Combine(_dir, $"{name}-{version}.spec");
        File.WriteAllText(spec, $"""
            Name: {name}
            Version: {version}
            Release: 1
            Summary: FIM test package
            License: MIT
            AutoReqProv: no
            %description
            FIM test package
            %install
            cp -a {source}/. %{"{"}buildroot{"}"}/
            %files
            {string.Join("\n", files.Keys)}
            """);
        var top = Path.Combine(_dir, "rpmbuild");
        ChildProcess.Run("rpmbuild", ["-bb", "--define", $"_topdir {top}", "--define", "__os_install_post %{nil}", "--define", "_build_id_links none", spec],
            timeout: TimeSpan.FromMinutes(2)).EnsureSuccess();
        return Directory.GetFiles(Path.Combine(top, "RPMS"), $"{name}-{version}-1.*.rpm", SearchOption.AllDirectories).Single();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, true);
        }
        catch (IOException)
        {
        }
    }
}
