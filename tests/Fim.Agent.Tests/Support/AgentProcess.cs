using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Fim.Agent.Tests.Support;

/// <summary>A long-running fim-agent (watch) whose stdout JSON lines and stderr are collected as they arrive.</summary>
public sealed class AgentProcess : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly ConcurrentQueue<string> _stderr = new();

    public AgentProcess(IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        _process = Process.Start(CliRunner.StartInfo(args, env))!;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                _lines.Add(line);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _stderr.Enqueue(e.Data);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Stderr => string.Join('\n', _stderr);

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit(10_000);
    }

    /// <summary>Waits for the process to exit; returns its exit code.</summary>
    public int AwaitExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            throw new TimeoutException($"fim-agent did not exit within {timeout}:\n{Stderr}");
        }
        return _process.ExitCode;
    }

    /// <summary>Waits until stderr has a line containing <paramref name="text"/>.</summary>
    public void AwaitLog(string text, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!_stderr.Any(l => l.Contains(text, StringComparison.Ordinal)))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"fim-agent exited with {_process.ExitCode} before logging '{text}':\n{Stderr}");
            }
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"no '{text}' in fim-agent's log within {timeout}:\n{Stderr}");
            }
            Thread.Sleep(20);
        }
    }

    /// <summary>The next alert line whose path is <paramref name="path"/>, within the deadline; lines for other paths are skipped.</summary>
    public JsonElement AwaitAlert(string path, TimeSpan timeout, string? kind = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero || !_lines.TryTake(out var line, left))
            {
                throw new TimeoutException($"no alert for {path} within {timeout}; stderr:\n{Stderr}");
            }
            var e = JsonDocument.Parse(line).RootElement;
            if (e.GetProperty("path").GetString() == path && (kind is null || e.GetProperty("kind").GetString() == kind))
            {
                return e;
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process.Dispose();
    }
}
