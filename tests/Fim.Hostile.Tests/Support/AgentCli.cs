using System.Text.Json;
using Fim.Testing;

namespace Fim.Hostile.Tests.Support;

/// <summary>The real fim-agent as a child process: as root, as nobody (setpriv, no shell), or on a terminal (script(1)).</summary>
public static class AgentCli
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public static ProcessResult Run(IEnumerable<string> args, string? asUser = null, IDictionary<string, string>? env = null)
    {
        var (file, argv) = Command(args, asUser);
        return ChildProcess.Run(file, argv, Env(env), timeout: Timeout);
    }

    public static ChildProcess Start(IEnumerable<string> args, string? asUser = null, IDictionary<string, string>? env = null)
    {
        var (file, argv) = Command(args, asUser);
        return new ChildProcess(file, argv, Env(env), name: "fim-agent");
    }

    /// <summary>
    /// Runs the agent with stdout and stderr on a pseudo-terminal (util-linux script), as a person at a terminal would
    /// see it. script takes one command line for its shell: every argument here comes from the test and is quoted.
    /// </summary>
    public static ChildProcess StartOnTerminal(IEnumerable<string> args, string? asUser = null)
    {
        var (file, argv) = Command(args, asUser);
        var line = string.Join(' ', new[] { file }.Concat(argv).Select(Quote));
        return new ChildProcess("script", ["--quiet", "--return", "--command", line, "/dev/null"], Env(null), name: "fim-agent (tty)");
    }

    /// <summary>Every line of stderr parses as one JSON object (no plain line mixed in).</summary>
    public static void AssertJsonLines(string stderr)
    {
        foreach (var line in stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            }
            catch (JsonException e)
            {
                Assert.Fail($"a stderr line is not JSON ({e.Message}): {line}\n--- stderr\n{stderr}");
            }
        }
    }

    /// <summary>The "@m" (rendered message) of every JSON log line.</summary>
    public static List<string> LogMessages(string stderr) =>
        [.. stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            return doc.RootElement.TryGetProperty("@m", out var m) ? m.GetString() ?? "" : "";
        })];

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static (string File, List<string> Args) Command(IEnumerable<string> args, string? asUser)
    {
        var (file, argv) = Programs.AgentCommand(args);
        return asUser is null ? (file, argv) : ("setpriv", [$"--reuid={asUser}", $"--regid={asUser}", "--clear-groups", "--", file, .. argv]);
    }

    private static Dictionary<string, string> Env(IDictionary<string, string>? env) =>
        new(env ?? new Dictionary<string, string>()) { ["NO_COLOR"] = "1" };
}
