// Package updates against alerts that reach a human (issue 14, acceptance 5): a simulated `apt-get upgrade` of a
// real package set (files of this host's own packages, rebuilt with dpkg-deb as version 1.0 and 1.1 and installed
// with the real dpkg into a test root the agent monitors as its host root), judged by the real manager. Then a few
// packaged files are tampered with. Counted: alerts stored, and alerts of level 7 or more (what reaches a human).
// The same run with package awareness off (`packages: { enabled: false }`) is the peer: today's behaviour.
// Usage: dotnet run -c Release --project bench/Fim.Bench.PackageUpdate -- [--files 450]
using System.Diagnostics;
using Fim.EndToEnd.Tests;
using Fim.Testing;

const int HumanLevel = 7;
var wanted = IntArg("--files", 450);
var set = PackageSet.FromHost(wanted);
Console.WriteLine($"package set: {set.Packages.Count} packages of this host, {set.Packages.Sum(p => p.Files.Count)} files");

var results = new List<string>();
foreach (var aware in new[] { true, false })
{
    await using var p = await Pipeline.StartAsync(managers: 1);
    var dpkg = new DpkgTestRoot(Path.Combine(p.Root, "host"), Path.Combine(p.Root, "debs"));
    var v1 = set.Packages.Select(pkg => dpkg.Build(pkg.Name, "1.0", pkg.Files.ToDictionary(f => f.Key, f => f.Value))).ToArray();
    var v2 = set.Packages.Select(pkg => dpkg.Build(pkg.Name, "1.1", pkg.Files.ToDictionary(f => f.Key, f => (byte[])[.. f.Value, .. "\n# 1.1\n"u8]))).ToArray();
    dpkg.Install(v1);
    await p.StartAgentAsync(policyPaths: ["/usr"], extraConfig: $"hostRoot: {dpkg.Root}\npackages:\n  enabled: {(aware ? "true" : "false")}");

    var started = Stopwatch.StartNew();
    dpkg.Install(v2);
    var upgradeSeconds = started.Elapsed.TotalSeconds;
    var files = set.Packages.SelectMany(pkg => pkg.Files.Keys).ToHashSet();
    var events = await p.AwaitEveryEventAlertedAsync(es => files.All(Pipeline.Paths(es).Contains), TimeSpan.FromMinutes(5));
    var alerts = await p.AlertsAsync();
    var upgradeHigh = alerts.Count(a => a.Body.GetProperty("level").GetInt32() >= HumanLevel);
    var tagged = alerts.Count(a => a.Body.GetProperty("tags").EnumerateArray().Any(t => t.GetString() == "package-update"));

    // Tampering: a binary appended to, a binary replaced by another package's, a text file edited in place.
    var binaries = files.Where(f => f.StartsWith("/usr/bin/", StringComparison.Ordinal)).Order().ToList();
    var texts = files.Where(f => f.StartsWith("/usr/share/", StringComparison.Ordinal)).Order().ToList();
    string[] tampered = [binaries[0], binaries[1], texts[0]];
    await File.AppendAllTextAsync(dpkg.At(tampered[0]), "x\n");
    var staged = Path.Combine(dpkg.Root, "replacement");
    File.Copy(dpkg.At(binaries[^1]), staged);
    File.Move(staged, dpkg.At(tampered[1]), overwrite: true);
    await File.WriteAllTextAsync(dpkg.At(tampered[2]), "edited\n");
    await p.AwaitEveryEventAlertedAsync(es => es.Count > events.Count && tampered.All(t => es.Skip(events.Count).Any(e => e.Path == t)), TimeSpan.FromMinutes(2));
    var after = (await p.AlertsAsync()).Skip(alerts.Count).ToList();
    var tamperHigh = after.Count(a => a.Body.GetProperty("level").GetInt32() >= HumanLevel);
    var perFile = string.Join(", ", tampered.Select(t => after.Count(a => a.Path == t && a.Body.GetProperty("level").GetInt32() >= HumanLevel)));

    results.Add($"| package awareness {(aware ? "on" : "off (today)")} | {alerts.Count} alerts from the upgrade ({upgradeSeconds:F1} s of dpkg), {tagged} tagged package-update | **{upgradeHigh}** | {tampered.Length} tampered files: **{tamperHigh}** high-level alerts ({perFile} per file) |");
}
Console.WriteLine("| run | upgrade | level >= 7 from the upgrade | tampering |");
Console.WriteLine("|---|---|---|---|");
results.ForEach(Console.WriteLine);
return 0;

int IntArg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}

/// <summary>Packages of this host: their names and the content of their small files under /usr, from dpkg's own lists.</summary>
internal sealed record PackageSet(List<(string Name, Dictionary<string, byte[]> Files)> Packages)
{
    private const int MaxFilesPerPackage = 12;
    private const long MaxFileBytes = 256 * 1024;

    public static PackageSet FromHost(int wantedFiles)
    {
        var packages = new List<(string, Dictionary<string, byte[]>)>();
        var total = 0;
        var binaries = 0;
        foreach (var md5sums in Directory.GetFiles("/var/lib/dpkg/info", "*.md5sums").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileNameWithoutExtension(md5sums).Split(':')[0];
            var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var line in File.ReadLines(md5sums))
            {
                var path = "/" + line[34..];
                var info = new FileInfo(path);
                if (!path.StartsWith("/usr/", StringComparison.Ordinal) || path.Contains(' ') || !info.Exists || info.LinkTarget is not null || info.Length > MaxFileBytes)
                {
                    continue;
                }
                files[path] = File.ReadAllBytes(path);
                if (files.Count == MaxFilesPerPackage)
                {
                    break;
                }
            }
            if (files.Count == 0)
            {
                continue;
            }
            binaries += files.Keys.Count(f => f.StartsWith("/usr/bin/", StringComparison.Ordinal));
            packages.Add((name, files));
            total += files.Count;
            if (total >= wantedFiles && binaries >= 3)
            {
                break;
            }
        }
        return new PackageSet(packages);
    }
}
