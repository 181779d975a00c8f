using System.Text.Json;
using Fim.Agent.Tests.Support;
using Fim.Testing;

namespace Fim.Agent.Tests.Cli;

public sealed class ScanCliTests : IDisposable
{
    private readonly TempTree _t = new("scan");

    private ProcessResult Scan(params string[] extra) => CliRunner.Run(["scan", _t.Tree, "--json", .. _t.StateArgs, .. extra]);

    [Fact]
    public void First_run_records_a_baseline_and_an_unchanged_rerun_reports_nothing()
    {
        _t.Write("a.txt", "a");
        var first = Scan();
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("baseline recorded", first.Stderr);
        Assert.Empty(first.StdoutLines);

        var second = Scan();
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Empty(second.StdoutLines);
    }

    [Fact]
    public void A_modification_is_one_json_line_with_kind_changed_before_after_and_rule()
    {
        _t.Write("etc/app.conf", "port=80\n");
        Assert.Equal(0, Scan().ExitCode);
        File.WriteAllText(_t["etc/app.conf"], "port=8080\n");

        var r = Scan();

        Assert.True(r.ExitCode == 4, r.ToString());
        var line = Assert.Single(r.StdoutLines);
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        Assert.Equal(_t["etc/app.conf"], root.GetProperty("path").GetString());
        Assert.Equal("modified", root.GetProperty("kind").GetString());
        var changed = root.GetProperty("changed").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("size", changed);
        Assert.Contains("sha256", changed);
        Assert.Equal(8, root.GetProperty("before").GetProperty("size").GetInt64());
        Assert.Equal(10, root.GetProperty("after").GetProperty("size").GetInt64());
        Assert.NotEqual(root.GetProperty("before").GetProperty("sha256").GetString(), root.GetProperty("after").GetProperty("sha256").GetString());
        Assert.Equal("550", root.GetProperty("rule").GetProperty("id").GetString());
        Assert.Equal(7, root.GetProperty("level").GetInt32());
        Assert.Contains("pci_dss:11.5", root.GetProperty("compliance").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void A_path_that_does_not_exist_is_refused_with_exit_16_naming_it()
    {
        var missing = Path.Combine(_t.Root, "no-such-dir");
        var r = CliRunner.Run(["scan", missing, .. _t.StateArgs]);
        Assert.True(r.ExitCode == 16, r.ToString());
        Assert.Contains(missing, r.Stderr);
        Assert.Contains("no such file or directory", r.Stderr);
    }

    [Fact]
    public void An_unreadable_directory_is_refused_with_exit_18()
    {
        _t.Write("secret/x", "x");
        File.SetUnixFileMode(_t["secret"], UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        OpenUpForNobody();

        var r = CliRunner.Run(["scan", _t["secret"], .. _t.StateArgs], runAsUser: "65534");

        Assert.True(r.ExitCode == 18, r.ToString());
        Assert.Contains(_t["secret"], r.Stderr);
        Assert.Contains("ermission denied", r.Stderr);
    }

    [Fact]
    public void A_subdirectory_that_becomes_unreadable_is_reported_not_verified_and_its_files_are_not_called_deleted()
    {
        _t.Write("open.txt", "o");
        _t.Write("locked/inner.txt", "i");
        OpenUpForNobody();
        Assert.Equal(0, CliRunner.Run(["scan", _t.Tree, "--json", .. _t.StateArgs], runAsUser: "65534").ExitCode);
        File.SetUnixFileMode(_t["locked"], UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var r = CliRunner.Run(["scan", _t.Tree, "--json", .. _t.StateArgs], runAsUser: "65534");

        // The directory's mode changed, and its content is unknown, not gone: the change is printed, and the exit code
        // says the check was incomplete (18) rather than "only changes" (4).
        Assert.True(r.ExitCode == 18, r.ToString());
        Assert.Contains(r.StdoutLines, l => l.Contains("\"attributes\"") && l.Contains(_t["locked"]));
        Assert.DoesNotContain(r.StdoutLines, l => l.Contains("inner.txt"));
        Assert.Contains("locked", r.Stderr);
        Assert.Contains("not verified", r.Stderr);
    }

    [Fact]
    public void A_policy_with_an_unknown_key_is_refused_naming_the_key_and_line()
    {
        var policy = Path.Combine(_t.Root, "policy.yaml");
        File.WriteAllText(policy, $"name: demo\npaths:\n  - path: {_t.Tree}\n    recursve: true\n");
        var r = CliRunner.Run(["scan", "--policy", policy, .. _t.StateArgs]);
        Assert.True(r.ExitCode == 17, r.ToString());
        Assert.Contains("recursve", r.Stderr);
        Assert.Contains(":4:", r.Stderr);
    }

    [Fact]
    public void A_policy_with_a_wrong_type_is_refused_naming_the_key_and_line()
    {
        var policy = Path.Combine(_t.Root, "policy.yaml");
        File.WriteAllText(policy, $"name: demo\npaths:\n  - path: {_t.Tree}\n    maxDepth: deep\n");
        var r = CliRunner.Run(["scan", "--policy", policy, .. _t.StateArgs]);
        Assert.True(r.ExitCode == 17, r.ToString());
        Assert.Contains("maxDepth", r.Stderr);
        Assert.Contains(":4:", r.Stderr);
    }

    [Fact]
    public void A_fifo_in_the_tree_is_recorded_without_being_opened_and_the_scan_finishes()
    {
        _t.Write("a.txt", "a");
        TempTree.Sh("mkfifo", _t["pipe"]);
        var first = CliRunner.Run(["scan", _t.Tree, "--json", .. _t.StateArgs], timeout: TimeSpan.FromSeconds(60));
        Assert.True(first.ExitCode == 0, first.ToString());

        File.Delete(_t["pipe"]);
        var r = Scan();

        var line = Assert.Single(r.StdoutLines, l => l.Contains("\"deleted\""));
        Assert.Contains("\"fifo\"", line);
    }

    [Fact]
    public void An_edited_baseline_is_refused_with_exit_19_and_told_how_to_rebaseline()
    {
        _t.Write("a.txt", "a");
        Assert.Equal(0, Scan().ExitCode);
        var snapshot = Directory.GetFiles(_t.State).Single(f => f.EndsWith(".snap", StringComparison.Ordinal));
        var bytes = File.ReadAllBytes(snapshot);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(snapshot, bytes);

        var r = Scan();

        Assert.True(r.ExitCode == 19, r.ToString());
        Assert.Contains("--rebaseline", r.Stderr);
        var again = Scan("--rebaseline");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(0, Scan().ExitCode);
    }

    [Fact]
    public void A_truncated_baseline_is_refused_with_exit_19()
    {
        _t.Write("a.txt", "a");
        Assert.Equal(0, Scan().ExitCode);
        var snapshot = Directory.GetFiles(_t.State).Single(f => f.EndsWith(".snap", StringComparison.Ordinal));
        using (var s = new FileStream(snapshot, FileMode.Open))
        {
            s.SetLength(s.Length - 10);
        }
        var r = Scan();
        Assert.True(r.ExitCode == 19, r.ToString());
        Assert.Contains("--rebaseline", r.Stderr);
    }

    [Fact]
    public void A_missing_key_for_an_existing_baseline_is_refused_not_silently_replaced()
    {
        _t.Write("a.txt", "a");
        Assert.Equal(0, Scan().ExitCode);
        File.Delete(_t.KeyFile);
        var r = Scan();
        Assert.True(r.ExitCode == 19, r.ToString());
        Assert.Contains(_t.KeyFile, r.Stderr);
    }

    [Fact]
    public void A_full_disk_while_saving_fails_with_exit_14_and_keeps_the_old_baseline()
    {
        var mount = Path.Combine(_t.Root, "small");
        Directory.CreateDirectory(mount);
        TempTree.Sh("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mount);
        try
        {
            var state = Path.Combine(mount, "state");
            string[] args = ["scan", _t.Tree, "--json", "--state", state, "--key-file", _t.KeyFile];
            _t.Write("a.txt", "a");
            Assert.Equal(0, CliRunner.Run(args).ExitCode);
            for (var i = 0; i < 3000; i++)
            {
                _t.Write($"many/file-with-a-long-name-to-fill-the-baseline-{i:D5}.txt", "x");
            }

            var full = CliRunner.Run(args);

            Assert.True(full.ExitCode == 14, full.ToString());
            Assert.Contains("space", full.Stderr, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("intact", full.Stderr);
            // The old baseline still loads and still knows only a.txt: deleting the new files leaves nothing to report but the directory.
            Directory.Delete(_t["many"], recursive: true);
            var after = CliRunner.Run(args);
            Assert.True(after.ExitCode is 0 or 4, after.ToString());
            Assert.DoesNotContain(after.StdoutLines, l => l.Contains("many/"));
        }
        finally
        {
            TempTree.Sh("umount", "-l", mount);
        }
    }

    [Fact]
    public void Paths_and_policy_together_unknown_options_and_a_key_inside_the_state_dir_are_usage_errors()
    {
        var policy = Path.Combine(_t.Root, "p.yaml");
        File.WriteAllText(policy, $"paths:\n  - path: {_t.Tree}\n");
        Assert.Equal(15, CliRunner.Run(["scan", _t.Tree, "--policy", policy, .. _t.StateArgs]).ExitCode);
        Assert.Equal(15, CliRunner.Run(["scan", _t.Tree, "--no-such-option"]).ExitCode);
        var inside = CliRunner.Run(["scan", _t.Tree, "--state", _t.State, "--key-file", Path.Combine(_t.State, "k")]);
        Assert.Equal(15, inside.ExitCode);
        Assert.Contains("inside the state directory", inside.Stderr);
        Assert.Equal(15, CliRunner.Run(["scan", .. _t.StateArgs]).ExitCode);
    }

    private void OpenUpForNobody()
    {
        // The unprivileged run needs to traverse the temp root and write its state and key.
        foreach (var dir in new[] { _t.Root, _t.Tree })
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_111_111);
        }
    }

    public void Dispose() => _t.Dispose();
}
