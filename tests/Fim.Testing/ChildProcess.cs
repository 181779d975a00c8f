using System.Collections.Concurrent;
using System.Diagnostics;

namespace Fim.Testing;

/// <summary>A real program started for a test, with its stdout and stderr lines collected as they arrive.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();

    public ChildProcess(string file, IEnumerable<string> args, IDictionary<string, string>? env = null, string? name = null)
    {
        Name = name ?? Path.GetFileName(file);
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _stdout.Enqueue(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _stderr.Enqueue(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>`dotnet &lt;dll&gt; args...`.</summary>
    public static ChildProcess Dotnet(string dll, IEnumerable<string> args, IDictionary<string, string>? env = null) =>
        new("dotnet", [dll, .. args], env, Path.GetFileNameWithoutExtension(dll));

    public string Name { get; }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public IReadOnlyCollection<string> StdoutLines => _stdout;
    public string Output => $"--- {Name} stdout\n{string.Join('\n', _stdout.TakeLast(40))}\n--- {Name} stderr\n{string.Join('\n', _stderr.TakeLast(40))}";

    public async Task AwaitLogAsync(string text, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!_stderr.Concat(_stdout).Any(l => l.Contains(text, StringComparison.Ordinal)))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited ({_process.ExitCode}) before printing '{text}'\n{Output}");
            }
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{Name} did not print '{text}' within {timeout}\n{Output}");
            }
            await Task.Delay(25);
        }
    }

    /// <summary>Waits for exit and for the last output lines; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout}\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: nothing runs on the way out, as in a crash or an OOM kill.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
