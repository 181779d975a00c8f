using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Fim.Testing;

/// <summary>
/// A real program started for a test: arguments passed as a list (never through a shell), stdout and stderr lines
/// collected as they arrive, waits that end on a signal (a new line, the output closing) or a deadline, and the
/// whole process tree killed on dispose. Every failure message carries the program's output.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    /// <summary>How long a program may run or take to print what is awaited: generous, for two saturated cores.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    private const int OutputTailLines = 60;

    private readonly Process _process;
    private readonly object _gate = new();
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _openStreams = 2;
    private bool _disposed;

    /// <param name="env">Added to (or replacing in) the test's own environment.</param>
    public ChildProcess(string file, IEnumerable<string> args, IDictionary<string, string>? env = null, string? workingDirectory = null, string? name = null)
    {
        var argList = args.ToList();
        Name = name ?? Path.GetFileName(file);
        CommandLine = string.Join(' ', [file, .. argList]);
        // Through `env --default-signal`: a test run started in the background by a non-interactive shell inherits
        // SIGINT and SIGQUIT ignored, the runtime honours an ignored SIGINT (as shells intend for background jobs),
        // and Interrupt() would then be lost. exec keeps the process id, so signals still reach the program itself.
        var psi = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        psi.ArgumentList.Add("--default-signal=INT,QUIT");
        psi.ArgumentList.Add(file);
        foreach (var a in argList)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => OnOutput(_stdout, e.Data, StdoutLine);
        _process.ErrorDataReceived += (_, e) => OnOutput(_stderr, e.Data, StderrLine);
        if (!_process.Start())
        {
            throw new InvalidOperationException($"cannot start {CommandLine}");
        }
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>`dotnet &lt;dll&gt; args...`, named after the dll.</summary>
    public static ChildProcess Dotnet(string dll, IEnumerable<string> args, IDictionary<string, string>? env = null) =>
        new(DotnetHost, [dll, .. args], env, name: Path.GetFileNameWithoutExtension(dll));

    /// <summary>fim-agent with these arguments: the native binary when FIM_AGENT_BINARY names one, else the JIT build.</summary>
    public static ChildProcess Agent(IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var (file, argv) = Programs.AgentCommand(args);
        return new(file, argv, env, name: "fim-agent");
    }

    /// <summary>fimctl with these arguments: the native binary when FIM_CTL_BINARY names one, else the JIT build.</summary>
    public static ChildProcess Ctl(IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var (file, argv) = Programs.CtlCommand(args);
        return new(file, argv, env, name: "fimctl");
    }

    /// <summary>Runs fimctl (as <see cref="Ctl"/> picks it) to its end.</summary>
    public static Task<ProcessResult> RunCtlAsync(IEnumerable<string> args, IDictionary<string, string>? env = null, TimeSpan? timeout = null)
    {
        var (file, argv) = Programs.CtlCommand(args);
        return RunAsync(file, argv, env, timeout: timeout);
    }

    /// <summary>Runs fim-agent (as <see cref="Agent"/> picks it) to its end.</summary>
    public static Task<ProcessResult> RunAgentAsync(IEnumerable<string> args, IDictionary<string, string>? env = null, TimeSpan? timeout = null)
    {
        var (file, argv) = Programs.AgentCommand(args);
        return RunAsync(file, argv, env, timeout: timeout);
    }

    /// <summary>The dotnet host running the tests (so a child runs on the same runtime), else `dotnet` from PATH.</summary>
    public static string DotnetHost => Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    /// <summary>Runs a program to its end with stdin closed; kills it and fails with its output at the deadline.</summary>
    public static ProcessResult Run(string file, IEnumerable<string> args, IDictionary<string, string>? env = null, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        using var p = new ChildProcess(file, args, env, workingDirectory);
        p.CloseInput();
        p.WaitForExit(timeout);
        return p.Result;
    }

    /// <inheritdoc cref="Run"/>
    public static async Task<ProcessResult> RunAsync(string file, IEnumerable<string> args, IDictionary<string, string>? env = null, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        using var p = new ChildProcess(file, args, env, workingDirectory);
        p.CloseInput();
        await p.WaitForExitAsync(timeout);
        return p.Result;
    }

    /// <summary>Raised for each stdout line as it arrives (for measurements that need the moment); lines before subscribing are only collected.</summary>
    public event Action<string>? StdoutLine;

    /// <summary>Raised for each stderr line as it arrives; lines before subscribing are only collected.</summary>
    public event Action<string>? StderrLine;

    public string Name { get; }
    public string CommandLine { get; }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The process id (e.g. to read /proc/&lt;pid&gt;/status).</summary>
    public int Pid => _process.Id;

    /// <summary>Completes when the process exits (no deadline: for racing against another wait).</summary>
    public Task Exited => _process.WaitForExitAsync();

    /// <summary>CPU time the running process has used so far (for benchmarks that split cost between processes).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.HasExited ? TimeSpan.Zero : _process.TotalProcessorTime;
        }
    }

    public IReadOnlyList<string> StdoutLines { get { lock (_gate) { return [.. _stdout]; } } }
    public IReadOnlyList<string> StderrLines { get { lock (_gate) { return [.. _stderr]; } } }
    public string Stdout => string.Join('\n', StdoutLines);
    public string Stderr => string.Join('\n', StderrLines);

    /// <summary>Every line of both streams so far (stdout, then stderr): what a check for secrets must read, not the tail.</summary>
    public string AllOutput
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _stdout) + "\n" + string.Join('\n', _stderr);
            }
        }
    }

    /// <summary>The last lines of both streams, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return $"--- {Name} stdout\n{string.Join('\n', _stdout.TakeLast(OutputTailLines))}\n--- {Name} stderr\n{string.Join('\n', _stderr.TakeLast(OutputTailLines))}";
            }
        }
    }

    /// <summary>The finished run; only after the process has exited.</summary>
    public ProcessResult Result => _process.HasExited
        ? new ProcessResult(CommandLine, _process.ExitCode, Stdout, Stderr)
        : throw new InvalidOperationException($"{Name} is still running");

    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Waits until a line of stdout or stderr contains <paramref name="text"/>.</summary>
    public Task AwaitLogAsync(string text, TimeSpan? timeout = null) =>
        AwaitOutputAsync((o, e) => o.Concat(e).Any(l => l.Contains(text, StringComparison.Ordinal)), () => $"a line containing '{text}'", timeout);

    /// <inheritdoc cref="AwaitLogAsync"/>
    public void AwaitLog(string text, TimeSpan? timeout = null) =>
        AwaitOutput((o, e) => o.Concat(e).Any(l => l.Contains(text, StringComparison.Ordinal)), () => $"a line containing '{text}'", timeout);

    /// <summary>
    /// Waits until <paramref name="condition"/> (given the stdout and stderr lines so far) holds; it is checked on every
    /// new line. Fails at the deadline, or as soon as the output has closed (the program ended) without it holding.
    /// </summary>
    public async Task AwaitOutputAsync(Func<IReadOnlyList<string>, IReadOnlyList<string>, bool> condition, Func<string> what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (condition(_stdout, _stderr))
                {
                    return;
                }
                ThrowIfEndedOrLate(what, limit, deadline.Elapsed);
                changed = _changed.Task;
            }
            try
            {
                await changed.WaitAsync(Left(limit, deadline));
            }
            catch (TimeoutException)
            {
                // Checked once more under the lock, then reported with the output.
            }
        }
    }

    /// <inheritdoc cref="AwaitOutputAsync"/>
    public void AwaitOutput(Func<IReadOnlyList<string>, IReadOnlyList<string>, bool> condition, Func<string> what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var deadline = Stopwatch.StartNew();
        lock (_gate)
        {
            while (!condition(_stdout, _stderr))
            {
                ThrowIfEndedOrLate(what, limit, deadline.Elapsed);
                Monitor.Wait(_gate, Left(limit, deadline));
            }
        }
    }

    /// <summary>Waits for the exit and the last output lines; returns the exit code. Kills the tree and fails at the deadline.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await _drained.Task.WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"{CommandLine} did not exit within {limit.TotalSeconds:0.#} s\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <inheritdoc cref="WaitForExitAsync"/>
    public int WaitForExit(TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var deadline = Stopwatch.StartNew();
        if (!_process.WaitForExit(limit) || !_drained.Task.Wait(Left(limit, deadline)))
        {
            Kill();
            throw new TimeoutException($"{CommandLine} did not exit within {limit.TotalSeconds:0.#} s\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>SIGKILL to the whole tree: nothing runs on the way out, as in a crash or an OOM kill.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(DefaultTimeout);
        }
    }

    /// <summary>SIGTERM: the program's clean shutdown runs; await <see cref="WaitForExitAsync"/> for its end.</summary>
    public void Terminate() => Signal(SigTerm, "TERM");

    /// <summary>SIGINT, as Ctrl-C in a terminal sends it.</summary>
    public void Interrupt() => Signal(SigInt, "INT");

    /// <summary>SIGSTOP: the program stops running (and reading its inputs) until <see cref="Resume"/>.</summary>
    public void Pause() => Signal(SigStop, "STOP");

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume() => Signal(SigCont, "CONT");

    private void Signal(int signal, string name)
    {
        if (!_process.HasExited && kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill -{name} {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Kill();
        _process.Dispose();
    }

    private static TimeSpan Left(TimeSpan limit, Stopwatch deadline) =>
        limit - deadline.Elapsed is { Ticks: > 0 } left ? left : TimeSpan.Zero;

    private void OnOutput(List<string> lines, string? line, Action<string>? raise)
    {
        if (line is not null)
        {
            raise?.Invoke(line);
        }
        lock (_gate)
        {
            if (line is null)
            {
                if (--_openStreams == 0)
                {
                    _drained.TrySetResult();
                }
            }
            else
            {
                lines.Add(line);
            }
            Monitor.PulseAll(_gate);
            var changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.SetResult();
        }
    }

    private void ThrowIfEndedOrLate(Func<string> what, TimeSpan limit, TimeSpan elapsed)
    {
        if (_openStreams == 0)
        {
            var exit = _process.WaitForExit(TimeSpan.FromSeconds(10)) ? $"exited ({_process.ExitCode})" : "closed its output";
            throw new InvalidOperationException($"{Name} {exit} before printing {what()}\n{Output}");
        }
        if (elapsed >= limit)
        {
            throw new TimeoutException($"{Name} did not print {what()} within {limit.TotalSeconds:0.#} s\n{Output}");
        }
    }

    private const int SigInt = 2;
    private const int SigTerm = 15;
    private const int SigCont = 18;
    private const int SigStop = 19;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}

/// <summary>A program's finished run.</summary>
public sealed record ProcessResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + "\n" + Stderr;

    public IEnumerable<string> StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>This result when the exit code is 0; otherwise fails with the command and its output.</summary>
    public ProcessResult EnsureSuccess() => ExitCode == 0 ? this : throw new InvalidOperationException(ToString());

    public override string ToString() => $"`{CommandLine}` exited {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}
