using System.Text.Json;
using Fim.Agent.Tests.Support;
using Fim.Testing;

namespace Fim.Agent.Tests.Oracle;

/// <summary>
/// AIDE is the oracle: on the same tree and the same scripted mutations, fim-agent and aide --check must
/// list the same set of (path, added | deleted | changed).
/// </summary>
public sealed class AideOracleTests : IDisposable
{
    private readonly TempTree _t = new("oracle");

    [Fact]
    public void Scan_reports_exactly_what_aide_reports_for_scripted_mutations()
    {
        Assert.True(Aide.Available, "aide is not installed: run scripts/install-deps.sh");
        BuildTree();
        var aide = new Aide(_t.Root, _t.Tree);

        var baseline = CliRunner.Run(["scan", _t.Tree, "--json", .. _t.StateArgs]);
        Assert.True(baseline.ExitCode == 0, baseline.ToString());
        aide.Init();
        // AIDE keeps mtime and ctime in whole seconds: mutate in a later second so both tools can see every change.
        TempTree.AwaitNextSecond(DateTime.UtcNow);

        Mutate();

        var check = CliRunner.Run(["scan", _t.Tree, "--json", .. _t.StateArgs]);
        Assert.True(check.ExitCode is > 0 and < 14, check.ToString());
        var ours = Classify(check);
        var theirs = aide.Check();

        var onlyOurs = ours.Except(theirs).ToList();
        var onlyAide = theirs.Except(ours).ToList();
        Assert.True(onlyOurs.Count == 0 && onlyAide.Count == 0,
            $"fim-agent and AIDE disagree.\nonly fim-agent: {string.Join(", ", onlyOurs)}\nonly AIDE: {string.Join(", ", onlyAide)}");

        // Not vacuous: every scripted mutation shows up.
        foreach (var expected in new[]
        {
            ("same-size.txt", "changed"), ("chmod.txt", "changed"), ("chown.txt", "changed"), ("renamed-to.txt", "added"),
            ("rename-from.txt", "deleted"), ("delete-me.txt", "deleted"), ("new.txt", "added"), ("link", "changed"),
            ("becomes-dir", "changed"), ("becomes-dir/inside.txt", "added"), ("hardlink-target.txt", "changed"),
            ("hardlink-new.txt", "added"), ("truncate.txt", "changed"), ("big.bin", "changed"),
        })
        {
            Assert.Contains((_t[expected.Item1], expected.Item2), ours);
        }
        Assert.Equal(7, check.ExitCode); // added | deleted | changed, like AIDE's
    }

    private void BuildTree()
    {
        var rng = new Random(42);
        for (var d = 0; d < 8; d++)
        {
            for (var f = 0; f < 25; f++)
            {
                var bytes = new byte[rng.Next(0, 8192)];
                rng.NextBytes(bytes);
                var path = _t[$"dir{d}/sub{f % 3}/file{f}.dat"];
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, bytes);
            }
        }
        foreach (var name in new[] { "same-size.txt", "chmod.txt", "chown.txt", "rename-from.txt", "delete-me.txt", "becomes-dir", "hardlink-target.txt", "truncate.txt" })
        {
            _t.Write(name, $"content of {name}\n");
        }
        _t.Write("link-a.txt", "a");
        _t.Write("link-b.txt", "b");
        File.CreateSymbolicLink(_t["link"], "link-a.txt");
        var big = new byte[3 * 1024 * 1024];
        rng.NextBytes(big);
        File.WriteAllBytes(_t["big.bin"], big);
    }

    private void Mutate()
    {
        // Same size, and the old mtime put back: only ctime and the hash can tell.
        var reference = Path.Combine(_t.Root, "times.ref");
        File.WriteAllText(reference, "");
        TempTree.Sh("touch", "-r", _t["same-size.txt"], reference);
        File.WriteAllText(_t["same-size.txt"], "CONTENT OF same-size.txt\n");
        TempTree.Sh("touch", "-r", reference, _t["same-size.txt"]);

        TempTree.Sh("chmod", "600", _t["chmod.txt"]);
        TempTree.Sh("chown", "1234:1234", _t["chown.txt"]);
        File.Move(_t["rename-from.txt"], _t["renamed-to.txt"]);
        File.Delete(_t["delete-me.txt"]);
        _t.Write("new.txt", "new\n");
        TempTree.Sh("ln", "-sfn", "link-b.txt", _t["link"]);
        File.Delete(_t["becomes-dir"]);
        _t.Write("becomes-dir/inside.txt", "inside\n");
        TempTree.Sh("ln", _t["hardlink-target.txt"], _t["hardlink-new.txt"]);
        File.WriteAllText(_t["truncate.txt"], "");
        using (var s = new FileStream(_t["big.bin"], FileMode.Append))
        {
            s.Write(new byte[1024 * 1024]);
        }
    }

    private static HashSet<(string, string)> Classify(ProcessResult r)
    {
        var set = new HashSet<(string, string)>();
        foreach (var line in r.StdoutLines)
        {
            using var doc = JsonDocument.Parse(line);
            var kind = doc.RootElement.GetProperty("kind").GetString();
            var cls = kind switch { "added" => "added", "deleted" => "deleted", _ => "changed" };
            set.Add((doc.RootElement.GetProperty("path").GetString()!, cls));
        }
        return set;
    }

    public void Dispose() => _t.Dispose();
}
