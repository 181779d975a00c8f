namespace Fim.Testing;

/// <summary>
/// A real nats-server with JetStream on 127.0.0.1, on a free port with its own store directory, for tests.
/// Can be stopped and started again on the same port and store (to test reconnects and restarts).
/// </summary>
public sealed class NatsServer : IAsyncDisposable
{
    private ChildProcess? _process;
    private string _lastLog = "";

    private NatsServer(string workDir, int port, string? extraConfig)
    {
        WorkDir = workDir;
        Port = port;
        StoreDir = Path.Combine(workDir, "jetstream");
        ConfigFile = Path.Combine(workDir, "nats.conf");
        File.WriteAllText(ConfigFile, $$"""
            listen: 127.0.0.1:{{port}}
            jetstream { store_dir: "{{StoreDir}}", max_memory_store: 256MB, max_file_store: 2GB }
            max_payload: 1MB
            {{extraConfig}}
            """);
    }

    public string WorkDir { get; }
    public int Port { get; }
    public string StoreDir { get; }
    public string ConfigFile { get; }
    public string Url => $"nats://127.0.0.1:{Port}";
    /// <summary>The running server's output (or the last run's, once stopped).</summary>
    public string Log => _process is { } p ? p.Stdout + "\n" + p.Stderr : _lastLog;

    /// <summary>CPU time the running server has used so far (for benchmarks that split cost between client and server).</summary>
    public TimeSpan CpuTime => _process?.CpuTime ?? TimeSpan.Zero;

    /// <summary>Starts a server; <paramref name="extraConfig"/> is appended to its config (TLS, authorization...).</summary>
    public static async Task<NatsServer> StartAsync(string? extraConfig = null, string? workDir = null, int? port = null)
    {
        workDir ??= Path.Combine(Path.GetTempPath(), "fim-nats-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(workDir);
        var server = new NatsServer(workDir, port ?? FreePort(), extraConfig);
        await server.StartAsync();
        return server;
    }

    /// <summary>Prepares a server's config, port and store without starting it (to test clients that start first).</summary>
    public static Task<NatsServer> CreateStoppedAsync(string workDir, string? extraConfig = null)
    {
        Directory.CreateDirectory(workDir);
        return Task.FromResult(new NatsServer(workDir, FreePort(), extraConfig));
    }

    public async Task StartAsync()
    {
        // nats-server is installed by scripts/install-deps.sh.
        var process = new ChildProcess("nats-server", ["-c", ConfigFile]);
        _process = process;
        await process.AwaitLogAsync("Server is ready"); // logged once the client listener accepts
    }

    /// <summary>Stops the server (SIGKILL when <paramref name="kill"/>, else a clean shutdown) and waits for it to exit.</summary>
    public async Task StopAsync(bool kill = false)
    {
        if (_process is null)
        {
            return;
        }
        if (kill)
        {
            _process.Kill();
        }
        else
        {
            _process.Terminate();
        }
        await _process.WaitForExitAsync();
        _lastLog = Log;
        _process.Dispose();
        _process = null;
    }

    public static int FreePort() => TestPorts.Next();

    public async ValueTask DisposeAsync()
    {
        await StopAsync(kill: true);
        try
        {
            Directory.Delete(WorkDir, true);
        }
        catch (IOException)
        {
        }
    }
}
