using System.Runtime.InteropServices;

namespace Fim.Agent.Cli;

/// <summary>
/// SIGINT and SIGTERM for every command: the first one cancels <see cref="Token"/> (scans stop between two reads,
/// the connected agent shuts down) and the process exits 128 + the signal number with a message, never 0; a second
/// one, or a command that has not stopped <see cref="ForceExitAfter"/> after the first, exits at once.
/// Replaces System.CommandLine's own termination handler, which reported a cancelled command as a success and
/// could throw from the signal thread.
/// </summary>
public sealed class Interruption : IDisposable
{
    public const int SigInt = 2;
    public const int SigTerm = 15;

    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration[] _registrations;
    private readonly TextWriter _stderr;
    private int _signal;

    public Interruption(TextWriter stderr)
    {
        _stderr = stderr;
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    /// <summary>The process-wide instance Program installs; commands read <see cref="Current"/>.<see cref="Signal"/>.</summary>
    public static Interruption? Current { get; set; }

    public CancellationToken Token => _cts.Token;

    /// <summary>The signal number received first (2 or 15), or 0.</summary>
    public int Signal => Volatile.Read(ref _signal);

    public bool Interrupted => Signal != 0;

    /// <summary>128 + the signal, as shells report a process killed by it.</summary>
    public int ExitCode => 128 + Signal;

    public string SignalName => Signal == SigInt ? "SIGINT" : "SIGTERM";

    /// <summary>After the first signal, how long the command may take to stop before the process exits anyway (null: wait).</summary>
    public TimeSpan? ForceExitAfter { get; set; }

    private void OnSignal(PosixSignalContext context)
    {
        // Handled here: the runtime's default (terminate at once, or the hosting lifetime) must not race the clean stop.
        context.Cancel = true;
        var number = context.Signal == PosixSignal.SIGINT ? SigInt : SigTerm;
        if (Interlocked.CompareExchange(ref _signal, number, 0) != 0)
        {
            _stderr.WriteLine($"fim-agent: second signal ({(number == SigInt ? "SIGINT" : "SIGTERM")}): exiting now; nothing more was recorded");
            Environment.Exit(128 + Signal);
        }
        try
        {
            _cts.Cancel();
        }
        catch (AggregateException e)
        {
            // A cancellation callback failed; the command still sees the token cancelled and stops.
            _stderr.WriteLine($"fim-agent: while stopping: {e.InnerException?.Message}");
        }
        if (ForceExitAfter is { } grace)
        {
            _ = Task.Delay(grace).ContinueWith(_ =>
            {
                _stderr.WriteLine($"fim-agent: interrupted by {SignalName} and not stopped within {grace.TotalSeconds:0.#} s: exiting now; nothing more was recorded");
                Environment.Exit(ExitCode);
            }, TaskScheduler.Default);
        }
    }

    public void Dispose()
    {
        foreach (var r in _registrations)
        {
            r.Dispose();
        }
        _cts.Dispose();
    }
}
