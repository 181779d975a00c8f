using Fim.Hostile.Tests.Support;

namespace Fim.Hostile.Tests;

/// <summary>
/// Case 10 (exit codes): what cannot be read is exit 18 ("a path to monitor cannot be read"), never 0 ("no change")
/// nor 16 ("does not exist"). The agent runs as nobody: root would read everything.
/// </summary>
public sealed class ExitCodeTests : IDisposable
{
    private readonly Sandbox _s = new("exit");

    [Fact]
    public void A_root_under_a_parent_that_cannot_be_searched_is_18_not_16()
    {
        var locked = Path.Combine(_s.Tree, "locked");
        Directory.CreateDirectory(Path.Combine(locked, "inner"));
        File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var r = AgentCli.Run(["scan", Path.Combine(locked, "inner"), .. _s.StateArgs], asUser: Sandbox.Nobody);

        Assert.True(r.ExitCode == 18, r.ToString());
        Assert.Contains("permission denied", r.Stderr);
    }

    [Fact]
    public void A_root_that_really_does_not_exist_is_still_16()
    {
        var r = AgentCli.Run(["scan", _s["missing/inner"], .. _s.StateArgs], asUser: Sandbox.Nobody);

        Assert.True(r.ExitCode == 16, r.ToString());
    }

    [Fact]
    public void An_unreadable_single_file_root_is_18_not_a_baseline_without_its_hash()
    {
        var secret = _s.Write("secret.txt", "s");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var r = AgentCli.Run(["scan", secret, "--json", .. _s.StateArgs], asUser: Sandbox.Nobody);

        Assert.True(r.ExitCode == 18, r.ToString());
        Assert.Contains(AgentCli.LogMessages(r.Stderr), m => m.Contains(secret, StringComparison.Ordinal) && m.Contains("Permission denied", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unreadable_subtree_is_18_on_the_first_run_and_on_later_runs_while_other_changes_are_still_reported()
    {
        _s.Write("open.txt", "o");
        var locked = Path.Combine(_s.Tree, "locked");
        _s.Write("locked/inner.txt", "i");
        File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var first = AgentCli.Run(["scan", _s.Tree, "--json", .. _s.StateArgs], asUser: Sandbox.Nobody);
        File.WriteAllText(_s["open.txt"], "changed");
        var second = AgentCli.Run(["scan", _s.Tree, "--json", .. _s.StateArgs], asUser: Sandbox.Nobody);

        Assert.True(first.ExitCode == 18, first.ToString());
        Assert.True(second.ExitCode == 18, second.ToString());
        Assert.Contains(second.StdoutLines, l => l.Contains(_s["open.txt"], StringComparison.Ordinal));
        Assert.Contains(AgentCli.LogMessages(second.Stderr), m => m.Contains("not verified", StringComparison.Ordinal));
    }

    [Fact]
    public void A_readable_tree_still_exits_0()
    {
        _s.Write("a.txt", "a");
        var r = AgentCli.Run(["scan", _s.Tree, "--json", .. _s.StateArgs], asUser: Sandbox.Nobody);
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    public void Dispose() => _s.Dispose();
}
