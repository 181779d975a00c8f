namespace Fim.Testing;

/// <summary>
/// A directory that dpkg treats as a host's root (<c>dpkg --root --admindir --log</c>): packages built with dpkg-deb are
/// installed into it for real, and the machine's own dpkg database is never touched.
/// </summary>
public sealed class DpkgTestRoot
{
    public DpkgTestRoot(string root, string packagesDir)
    {
        Root = root;
        PackagesDir = packagesDir;
        Directory.CreateDirectory(Path.Combine(root, "var/lib/dpkg/info"));
        Directory.CreateDirectory(Path.Combine(root, "var/lib/dpkg/updates"));
        Directory.CreateDirectory(Path.Combine(root, "var/log"));
        Directory.CreateDirectory(packagesDir);
        var status = Path.Combine(root, "var/lib/dpkg/status");
        if (!File.Exists(status))
        {
            File.WriteAllText(status, "");
        }
    }

    public string Root { get; }
    public string PackagesDir { get; }

    /// <summary>dpkg and dpkg-deb are installed (Debian's dpkg package).</summary>
    public static bool Available => File.Exists("/usr/bin/dpkg") && File.Exists("/usr/bin/dpkg-deb");

    /// <summary>The path of <paramref name="hostPath"/> (as the host knows it) inside the root.</summary>
    public string At(string hostPath) => Path.Combine(Root, hostPath.TrimStart('/'));

    /// <summary>
    /// Builds <paramref name="name"/>_<paramref name="version"/>.deb from <paramref name="files"/> (host path to content;
    /// paths under /usr/bin get mode 0755) and returns its path.
    /// </summary>
    public string Build(string name, string version, IReadOnlyDictionary<string, byte[]> files)
    {
        var staging = Path.Combine(PackagesDir, $"{name}-{version}");
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, true);
        }
        Directory.CreateDirectory(Path.Combine(staging, "DEBIAN"));
        File.WriteAllText(Path.Combine(staging, "DEBIAN/control"),
            $"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: FIM tests <tests@fim.invalid>\nDescription: FIM test package {name}\n");
        foreach (var (path, content) in files)
        {
            var target = Path.Combine(staging, path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, content);
            File.SetUnixFileMode(target, path.Contains("/bin/", StringComparison.Ordinal)
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        var deb = Path.Combine(PackagesDir, $"{name}_{version}_all.deb");
        ChildProcess.Run("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", staging, deb], timeout: TimeSpan.FromMinutes(2)).EnsureSuccess();
        return deb;
    }

    /// <summary>Installs (or upgrades to) the given .deb files in one dpkg run, as apt-get does for a batch.</summary>
    public ProcessResult Install(params string[] debs) =>
        ChildProcess.Run("dpkg", [$"--root={Root}", $"--admindir={Path.Combine(Root, "var/lib/dpkg")}", $"--log={Path.Combine(Root, "var/log/dpkg.log")}",
            "--force-script-chrootless", "--force-not-root", "--no-triggers", "--install", .. debs], timeout: TimeSpan.FromMinutes(5)).EnsureSuccess();

    /// <summary>The version dpkg records as installed, or null.</summary>
    public string? InstalledVersion(string name)
    {
        var r = ChildProcess.Run("dpkg-query", [$"--admindir={Path.Combine(Root, "var/lib/dpkg")}", "-W", "-f=${Version}", name]);
        return r.ExitCode == 0 ? r.Stdout.Trim() : null;
    }
}
