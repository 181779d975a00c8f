using Fim.Manager.Pipeline;
using Fim.Manager.Sinks;
using Fim.Manager.Telemetry;
using Fim.Testing;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Fim.Manager.Tests.Support;

/// <summary>A manager hosted in the test process on real Kestrel ports (HTTP/1.1 for REST, h2c for gRPC).</summary>
public sealed class TestManager : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private readonly Stream _stdoutSync;

    private TestManager(WebApplication app, int httpPort, int grpcPort, MemoryStream stdout, Stream stdoutSync)
    {
        _stdoutSync = stdoutSync;
        _app = app;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
        Stdout = stdout;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        Client = new Fim.Api.V1.FimManager.FimManagerClient(Channel);
    }

    public int HttpPort { get; }
    public int GrpcPort { get; }
    public HttpClient Http { get; }
    public GrpcChannel Channel { get; }
    public Fim.Api.V1.FimManager.FimManagerClient Client { get; }
    public MemoryStream Stdout { get; }
    public IServiceProvider Services => _app.Services;
    public ManagerMetrics Metrics => Services.GetRequiredService<ManagerMetrics>();
    public Readiness Readiness => Services.GetRequiredService<Readiness>();

    /// <summary>Settings every test manager gets; <paramref name="settings"/> adds to or overrides them.</summary>
    public static WebApplication Build(string natsUrl, int httpPort, int grpcPort, Stream stdout, IDictionary<string, string?>? settings = null)
    {
        var config = new Dictionary<string, string?>
        {
            ["Fim:Nats:Url"] = natsUrl,
            ["Fim:Nats:MinRetryDelay"] = "00:00:00.100",
            ["Fim:Nats:MaxRetryDelay"] = "00:00:00.500",
            ["Fim:Api:Address"] = "127.0.0.1",
            ["Fim:Api:HttpPort"] = httpPort.ToString(),
            ["Fim:Api:GrpcPort"] = grpcPort.ToString(),
            ["Fim:Pipeline:AckWait"] = "00:00:05",
            ["Fim:Pipeline:NakDelay"] = "00:00:00.200",
            ["Fim:Pipeline:MaxNakDelay"] = "00:00:01",
            ["Fim:Pipeline:PendingRefresh"] = "00:00:00.500",
            ["Fim:Telemetry:LogLevel"] = Environment.GetEnvironmentVariable("FIM_TEST_LOG_LEVEL") ?? "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }
        return ManagerApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(config);
            builder.Services.AddSingleton(new AlertOutput(stdout));
        });
    }

    public static async Task<TestManager> StartAsync(string natsUrl, IDictionary<string, string?>? settings = null, bool waitReady = true)
    {
        var stdout = new MemoryStream();
        var sync = Stream.Synchronized(stdout);
        var (http, grpc) = (NatsServer.FreePort(), NatsServer.FreePort());
        var app = Build(natsUrl, http, grpc, sync, settings);
        var manager = new TestManager(app, http, grpc, stdout, sync);
        await app.StartAsync();
        if (waitReady)
        {
            await Eventually.TrueAsync(() => manager.Readiness.IsReady, "manager ready");
        }
        return manager;
    }

    /// <summary>The lines the stdout sink wrote so far.</summary>
    public IReadOnlyList<string> StdoutLines()
    {
        lock (_stdoutSync)
        {
            return System.Text.Encoding.UTF8.GetString(Stdout.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
    }

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _app.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Channel.Dispose();
        Http.Dispose();
        await _app.DisposeAsync();
    }
}
