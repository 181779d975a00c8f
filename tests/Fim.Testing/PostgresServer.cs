namespace Fim.Testing;

/// <summary>
/// A real PostgreSQL 15 (Debian's postgresql package, installed by scripts/install-deps.sh) in a temporary data
/// directory, on 127.0.0.1 and a port from <see cref="TestPorts"/>, its unix socket in the same directory. PostgreSQL
/// refuses to run as root, so initdb and pg_ctl run as the postgres user through runuser. Can be stopped (also
/// "immediate", a crash) and started again on the same port and data. Removed on dispose.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";

    private readonly string _settings;
    private bool _running;
    private bool _kept;

    private PostgresServer(string dir, int port, string settings)
    {
        Directory = dir;
        Port = port;
        _settings = settings;
    }

    public string Directory { get; }
    public int Port { get; }
    public string DataDirectory => Path.Combine(Directory, "data");
    public string LogFile => Path.Combine(Directory, "postgres.log");
    /// <summary>The server's log so far (for failure messages).</summary>
    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    /// <summary>
    /// Initialises and starts a server. <paramref name="durable"/> false turns fsync off (tests: a crash of the server
    /// process loses nothing the kernel has; only benchmarks need the real cost).
    /// </summary>
    public static async Task<PostgresServer> StartAsync(bool durable = false, string? extraSettings = null)
    {
        if (!File.Exists(Path.Combine(BinDirectory, "initdb")))
        {
            throw new InvalidOperationException($"PostgreSQL 15 is not installed ({BinDirectory}/initdb missing): run scripts/install-deps.sh");
        }
        var dir = Path.Combine(Path.GetTempPath(), "fim-pg-" + Guid.NewGuid().ToString("N")[..10]);
        System.IO.Directory.CreateDirectory(dir);
        (await ChildProcess.RunAsync("chown", ["postgres:postgres", dir])).EnsureSuccess();
        var port = TestPorts.Next();
        var settings = $"-c listen_addresses=127.0.0.1 -p {port} -k {dir} -c max_connections=200"
            + (durable ? "" : " -c fsync=off -c full_page_writes=off") + (extraSettings is null ? "" : " " + extraSettings);
        var server = new PostgresServer(dir, port, settings);
        (await AsPostgres("initdb", ["-D", server.DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]))
            .EnsureSuccess();
        await server.StartAsync();
        return server;
    }

    /// <summary>
    /// A server whose data directory outlives it, so a benchmark can reuse what it generated: initialised in
    /// <paramref name="directory"/> the first time, started on it again later; stopped cleanly, not removed, on dispose.
    /// </summary>
    public static async Task<PostgresServer> StartKeptAsync(string directory, bool durable, string? extraSettings = null)
    {
        directory = Path.GetFullPath(directory);
        var fresh = !System.IO.Directory.Exists(Path.Combine(directory, "data"));
        System.IO.Directory.CreateDirectory(directory);
        (await ChildProcess.RunAsync("chown", ["postgres:postgres", directory])).EnsureSuccess();
        var port = TestPorts.Next();
        var settings = $"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c max_connections=200"
            + (durable ? "" : " -c fsync=off -c full_page_writes=off") + (extraSettings is null ? "" : " " + extraSettings);
        var server = new PostgresServer(directory, port, settings) { _kept = true };
        if (fresh)
        {
            (await AsPostgres("initdb", ["-D", server.DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]))
                .EnsureSuccess();
        }
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        var result = await AsPostgres("pg_ctl", ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "120", "-o", _settings, "start"]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{result}\n--- postgres log\n{Log}");
        }
        _running = true;
    }

    /// <summary>Stops the server: "fast" (clean) or "immediate" (like a crash: recovery at the next start).</summary>
    public async Task StopAsync(string mode = "fast")
    {
        if (!_running)
        {
            return;
        }
        (await AsPostgres("pg_ctl", ["-D", DataDirectory, "-m", mode, "-w", "-t", "120", "stop"])).EnsureSuccess();
        _running = false;
    }

    /// <summary>Creates a database (one per test class) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        (await ChildProcess.RunAsync(Path.Combine(BinDirectory, "createdb"), ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", name]))
            .EnsureSuccess();
        return ConnectionString(name);
    }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=15;Command Timeout=120";

    private static Task<ProcessResult> AsPostgres(string tool, IEnumerable<string> args) =>
        ChildProcess.RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(BinDirectory, tool), .. args], timeout: TimeSpan.FromMinutes(3));

    public async ValueTask DisposeAsync()
    {
        if (_kept)
        {
            await StopAsync("fast");
            return;
        }
        try
        {
            await StopAsync("immediate");
        }
        finally
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
