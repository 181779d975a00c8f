using Fim.Manager.Pipeline;
using Fim.Manager.Sinks;
using Fim.Manager.Telemetry;
using Fim.Testing;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Fim.Manager.Tests.Support;

/// <summary>
/// A manager hosted in the test process on real Kestrel ports (HTTP/1.1 for REST, h2c for gRPC), trusting the shared
/// test OIDC provider. <see cref="Http"/> and <see cref="Client"/> call as an admin; <see cref="HttpAs"/> and
/// <see cref="ClientAs"/> as another of the provider's clients, <see cref="AnonymousHttp"/> with no credentials.
/// </summary>
public sealed class TestManager : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private readonly Stream _stdoutSync;

    private readonly List<IDisposable> _clients = [];

    private TestManager(WebApplication app, int httpPort, int grpcPort, MemoryStream stdout, Stream stdoutSync, OidcProvider oidc)
    {
        _stdoutSync = stdoutSync;
        _app = app;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
        Stdout = stdout;
        Oidc = oidc;
        Http = HttpAs(OidcProvider.Admin);
        AnonymousHttp = Track(new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") });
        Channel = ChannelAs(OidcProvider.Admin);
        Client = new Fim.Api.V1.FimManager.FimManagerClient(Channel);
    }

    public OidcProvider Oidc { get; }
    public HttpClient AnonymousHttp { get; }

    /// <summary>A REST client that calls as one of the provider's clients (OidcProvider.Viewer, ...).</summary>
    public HttpClient HttpAs(string oidcClient) =>
        Track(new HttpClient(Oidc.BearerHandler(oidcClient)) { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}") });

    /// <summary>A REST client that sends this bearer token (an API token, a forged JWT...).</summary>
    public HttpClient HttpWithToken(string token) =>
        Track(new HttpClient(new OidcProvider.TokenHandler(() => Task.FromResult(token)) { InnerHandler = new SocketsHttpHandler() })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}"),
        });

    public GrpcChannel ChannelAs(string oidcClient) => Track(GrpcChannel.ForAddress($"http://127.0.0.1:{GrpcPort}",
        new GrpcChannelOptions { HttpHandler = Oidc.BearerHandler(oidcClient) }));

    public Fim.Api.V1.FimManager.FimManagerClient ClientAs(string oidcClient) => new(ChannelAs(oidcClient));

    public Fim.Api.V1.FimManager.FimManagerClient ClientWithToken(string? token) => new(Track(GrpcChannel.ForAddress($"http://127.0.0.1:{GrpcPort}",
        new GrpcChannelOptions
        {
            HttpHandler = token is null ? new SocketsHttpHandler()
                : new OidcProvider.TokenHandler(() => Task.FromResult(token)) { InnerHandler = new SocketsHttpHandler() },
        })));

    private T Track<T>(T client)
        where T : IDisposable
    {
        lock (_clients)
        {
            _clients.Add(client);
        }
        return client;
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

    private const string StoreDirectoryPrefix = "fim-manager-store-";

    /// <summary>Waits until the indexer has put at least <paramref name="count"/> alerts into the store (queries read the store).</summary>
    public Task AwaitStoredAsync(long count) => Eventually.TrueAsync(async () =>
        (await Services.GetRequiredService<Fim.Manager.Store.IAlertStore>().TallyAsync(CancellationToken.None)).Rows >= count, $"{count} alerts in the store");

    /// <summary>Settings every test manager gets; <paramref name="settings"/> adds to or overrides them.</summary>
    public static WebApplication Build(string natsUrl, int httpPort, int grpcPort, Stream stdout, IDictionary<string, string?>? settings = null,
        OidcProvider? oidc = null, Action<IServiceCollection>? services = null)
    {
        var config = new Dictionary<string, string?>(oidc?.ManagerSettings() ?? new Dictionary<string, string?>())
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
            // Each test manager its own SQLite alert store (the default backend).
            ["Fim:Store:DataDirectory"] = Path.Combine(Path.GetTempPath(), StoreDirectoryPrefix + Guid.NewGuid().ToString("N")[..10]),
            ["Fim:Store:BatchDelay"] = "00:00:00.005",
            // Tests wait by polling the API every 20 ms: the default 600 a minute per caller would refuse a slow wait's
            // polls with 429. AuthTests sets a low limit where the limit is what is tested.
            ["Fim:Api:RequestsPerCallerPerMinute"] = "1000000",
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
            services?.Invoke(builder.Services);
        });
    }

    /// <param name="services">Registrations made before the manager's own (which it then keeps), such as a fake clock.</param>
    public static async Task<TestManager> StartAsync(string natsUrl, IDictionary<string, string?>? settings = null, bool waitReady = true, Action<IServiceCollection>? services = null)
    {
        var stdout = new MemoryStream();
        var sync = Stream.Synchronized(stdout);
        var (http, grpc) = (NatsServer.FreePort(), NatsServer.FreePort());
        var oidc = await OidcProvider.SharedAsync();
        var app = Build(natsUrl, http, grpc, sync, settings, oidc, services);
        var manager = new TestManager(app, http, grpc, stdout, sync, oidc);
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
        lock (_clients)
        {
            _clients.ForEach(c => c.Dispose());
        }
        var store = Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Fim.Manager.Options.StoreOptions>>().Value;
        await _app.DisposeAsync();
        if (store.Backend == Fim.Manager.Options.StoreOptions.Sqlite && Directory.Exists(store.DataDirectory) && Path.GetFileName(store.DataDirectory).StartsWith(StoreDirectoryPrefix, StringComparison.Ordinal))
        {
            Directory.Delete(store.DataDirectory, recursive: true);
        }
    }
}
