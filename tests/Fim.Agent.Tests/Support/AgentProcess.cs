using System.Text.Json;
using Fim.Testing;

namespace Fim.Agent.Tests.Support;

/// <summary>A long-running fim-agent (watch or run) whose stdout carries one JSON alert per line.</summary>
public sealed class AgentProcess(IEnumerable<string> args, IDictionary<string, string>? env = null) : IDisposable
{
    private readonly ChildProcess _process = CliRunner.Start(args, env);
    private int _nextAlertLine;

    public string Stderr => _process.Stderr;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public void Kill() => _process.Kill();

    /// <summary>Waits for the process to exit; returns its exit code.</summary>
    public int AwaitExit(TimeSpan? timeout = null) => _process.WaitForExit(timeout);

    /// <summary>Waits until stderr (the log) has a line containing <paramref name="text"/>.</summary>
    public void AwaitLog(string text, TimeSpan? timeout = null) =>
        _process.AwaitOutput((_, stderr) => stderr.Any(l => l.Contains(text, StringComparison.Ordinal)), () => $"'{text}' in its log", timeout);

    /// <summary>
    /// The next alert line whose path is <paramref name="path"/> (and kind, if given); alert lines before it are
    /// consumed and skipped, so consecutive calls see consecutive alerts.
    /// </summary>
    public JsonElement AwaitAlert(string path, TimeSpan? timeout = null, string? kind = null)
    {
        JsonElement found = default;
        _process.AwaitOutput((stdout, _) =>
        {
            while (_nextAlertLine < stdout.Count)
            {
                var line = stdout[_nextAlertLine++];
                if (line.Length == 0)
                {
                    continue;
                }
                var e = JsonDocument.Parse(line).RootElement;
                if (e.GetProperty("path").GetString() == path && (kind is null || e.GetProperty("kind").GetString() == kind))
                {
                    found = e;
                    return true;
                }
            }
            return false;
        }, () => $"an alert for {path}{(kind is null ? "" : $" ({kind})")}", timeout);
        return found;
    }

    public void Dispose() => _process.Dispose();
}
