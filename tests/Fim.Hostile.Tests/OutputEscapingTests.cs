using System.Text.Json;
using Fim.Hostile.Tests.Support;

namespace Fim.Hostile.Tests;

/// <summary>
/// Case 4: file names with control characters must not drive the terminal (clear it, recolour it) nor forge a line
/// ("baseline recorded: 0 entries, all good") in anything a person reads; machine output stays valid JSON.
/// </summary>
public sealed class OutputEscapingTests : IDisposable
{
    private const string ClearScreen = "evil\u001b[2Jname";
    private const string Colour = "red\u001b[31mALERT\u001b[0m";
    private const string Forged = "x\nbaseline recorded: 0 entries, all good";
    private const string CarriageReturn = "y\rbaseline recorded: 0 entries, all good";
    private const string ForgedText = "baseline recorded: 0 entries, all good";

    private readonly Sandbox _s = new("escape");

    [Fact]
    public async Task Scan_on_a_terminal_shows_hostile_names_escaped()
    {
        _s.Write("seed", "s");
        Assert.Equal(0, AgentCli.Run(["scan", _s.Tree, .. _s.StateArgs]).ExitCode);
        foreach (var name in new[] { ClearScreen, Colour, Forged, CarriageReturn })
        {
            _s.Write(name);
        }

        using var agent = AgentCli.StartOnTerminal(["scan", _s.Tree, .. _s.StateArgs]);
        var exit = await agent.WaitForExitAsync(AgentCli.Timeout);

        var shown = agent.Stdout;
        Assert.True(exit == 5, $"exit {exit}\n{agent.Output}"); // added (1) | the tree's mtime (4)
        Assert.Contains(@"evil\e[2Jname", shown);
        Assert.Contains(@"red\e[31mALERT\e[0m", shown);
        Assert.Contains(@"x\nbaseline recorded: 0 entries, all good", shown);
        Assert.Contains(@"y\rbaseline recorded: 0 entries, all good", shown);
        AssertNothingRaw(shown);
    }

    [Fact]
    public async Task Watch_on_a_terminal_shows_hostile_names_escaped()
    {
        _s.Write("seed", "s");
        using var agent = AgentCli.StartOnTerminal(["watch", _s.Tree, .. _s.StateArgs]);
        await agent.AwaitLogAsync("watching for changes", AgentCli.Timeout);

        _s.Write(ClearScreen);
        _s.Write(Forged);
        await agent.AwaitLogAsync(@"evil\e[2Jname", AgentCli.Timeout);
        await agent.AwaitLogAsync(@"x\nbaseline recorded: 0 entries, all good", AgentCli.Timeout);

        AssertNothingRaw(agent.Stdout);
    }

    [Fact]
    public void Warnings_about_hostile_names_are_json_lines_when_stderr_is_not_a_terminal()
    {
        foreach (var name in new[] { Forged, CarriageReturn, ClearScreen })
        {
            File.SetUnixFileMode(_s.Write(name), UnixFileMode.None);
        }

        var r = AgentCli.Run(["scan", _s.Tree, "--json", .. _s.StateArgs], asUser: Sandbox.Nobody);

        Assert.True(r.ExitCode == 18, r.ToString()); // content that cannot be read is an error
        AgentCli.AssertJsonLines(r.Stderr);
        Assert.DoesNotContain(r.Stderr.Split('\n'), l => l.TrimStart().StartsWith(ForgedText, StringComparison.Ordinal));
        var messages = AgentCli.LogMessages(r.Stderr);
        // The exact name survives inside the JSON string, for whoever reads the log with a JSON parser.
        Assert.Contains(messages, m => m.Contains(_s[Forged], StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("baseline recorded: 4 entries", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Warnings_about_hostile_names_on_a_terminal_are_escaped_plain_lines()
    {
        foreach (var name in new[] { Forged, CarriageReturn, ClearScreen })
        {
            File.SetUnixFileMode(_s.Write(name), UnixFileMode.None);
        }

        using var agent = AgentCli.StartOnTerminal(["scan", _s.Tree, .. _s.StateArgs], asUser: Sandbox.Nobody);
        var exit = await agent.WaitForExitAsync(AgentCli.Timeout);

        Assert.True(exit == 18, $"exit {exit}\n{agent.Output}");
        Assert.Contains(@"x\nbaseline recorded: 0 entries, all good: Permission denied", agent.Stdout);
        Assert.Contains(@"evil\e[2Jname: Permission denied", agent.Stdout);
        AssertNothingRaw(agent.Stdout);
    }

    [Fact]
    public void Json_output_keeps_one_valid_line_per_change_whatever_the_name_holds()
    {
        _s.Write("seed", "s");
        Assert.Equal(0, AgentCli.Run(["scan", _s.Tree, "--json", .. _s.StateArgs]).ExitCode);
        string[] names = [ClearScreen, Forged, CarriageReturn, "tab\there", "quote\"brace}{", "back\\slash", "nul-free \u0001\u007f\u0085", "bidi\u202etxt.exe"];
        foreach (var name in names)
        {
            _s.Write(name);
        }

        var r = AgentCli.Run(["scan", _s.Tree, "--json", .. _s.StateArgs]);

        Assert.True(r.ExitCode == 5, r.ToString());
        AgentCli.AssertJsonLines(r.Stderr);
        var paths = new List<string>();
        foreach (var line in r.StdoutLines)
        {
            using var doc = JsonDocument.Parse(line);
            paths.Add(doc.RootElement.GetProperty("path").GetString()!);
        }
        foreach (var name in names)
        {
            Assert.Contains(_s[name], paths);
        }
    }

    /// <summary>No escape sequence and no line that starts with the forged text reached the terminal.</summary>
    private static void AssertNothingRaw(string shown)
    {
        Assert.DoesNotContain("\u001b[2J", shown);
        Assert.DoesNotContain("\u001b[31m", shown);
        // The pty turns each "\n" into "\r\n"; a raw "\r" or "\n" in a name would start a line with the forged text.
        foreach (var line in shown.Split('\n').SelectMany(l => l.Split('\r')))
        {
            Assert.False(line.StartsWith(ForgedText, StringComparison.Ordinal), $"a forged line reached the terminal:\n{shown}");
        }
    }

    public void Dispose() => _s.Dispose();
}
