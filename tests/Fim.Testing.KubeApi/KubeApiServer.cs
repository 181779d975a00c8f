using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Fim.Testing.KubeApi.Http;
using Fim.Testing.KubeApi.Storage;
using Fim.Testing.KubeApi.Testing;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fim.Testing.KubeApi;

/// <summary>
/// An in-process Kubernetes API server double on 127.0.0.1 that speaks the real REST + watch protocol
/// (see docs/kube-api-double.md). Start it, then point KubernetesClient (<see cref="CreateClient"/>) or
/// kubectl (<see cref="WriteKubeconfig"/>) at it. Test hooks: <see cref="CutWatches"/>, <see cref="CompactHistory"/>,
/// <see cref="FailNext"/>, <see cref="RequestCount"/>.
/// </summary>
public sealed class KubeApiServer : IAsyncDisposable, IDisposable
{
    private const string ContextName = "fim-kube-api-double";

    private readonly KubeApiServerOptions _options;
    private readonly FaultInjector _faults = new();
    private WebApplication? _app;
    private readonly TaskCompletionSource _stopping = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private X509Certificate2? _certificate;

    public KubeApiServer(KubeApiServerOptions? options = null)
    {
        _options = options ?? new KubeApiServerOptions();
        Store = new ApiStore(_options.WatchHistoryCapacity);
    }

    /// <summary>The object store behind the API (for tests that need to look underneath).</summary>
    public ApiStore Store { get; }

    /// <summary>Requests served, per verb and resource.</summary>
    public RequestCounter Requests { get; } = new();

    /// <summary>The base URL, e.g. <c>http://127.0.0.1:41234</c>; valid after <see cref="StartAsync"/>.</summary>
    public string Url { get; private set; } = "";

    public int Port { get; private set; }

    /// <summary>The self-signed server certificate when <see cref="KubeApiServerOptions.UseTls"/> is set.</summary>
    public X509Certificate2? Certificate => _certificate;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        // Writes wait synchronously for the schema validator (the storage layer is synchronous): with the pool's
        // default of one thread per core, a few waiting writes starve every other request on a 2-core machine.
        ThreadPool.GetMinThreads(out var workers, out var io);
        if (workers < 32)
        {
            ThreadPool.SetMinThreads(32, io);
        }
        if (_app is not null)
        {
            throw new InvalidOperationException("already started");
        }

        if (_options.UseTls)
        {
            _certificate = CreateSelfSignedCertificate();
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(KubeApiServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        if (_options.ConsoleLogging)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        }

        builder.WebHost.UseKestrel(k =>
        {
            k.AllowSynchronousIO = false;
            k.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            k.Listen(IPAddress.Loopback, _options.Port, listen =>
            {
                if (_certificate is not null)
                {
                    listen.UseHttps(_certificate);
                }
            });
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

        var app = builder.Build();
        var handler = new ApiHandler(Store, Requests, _faults, _options);
        app.Run(handler.HandleAsync);
        await app.StartAsync(cancellationToken);
        app.Lifetime.ApplicationStopping.Register(() => _stopping.TrySetResult());
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Port = new Uri(address).Port;
        Url = $"{(_certificate is null ? "http" : "https")}://127.0.0.1:{Port}";
        _app = app;
    }

    /// <summary>
    /// A kubeconfig for this server (one cluster, context and user; namespace default). The server does no
    /// authentication; the user carries a placeholder token because KubernetesClient refuses a kubeconfig user without credentials.
    /// </summary>
    public string KubeconfigYaml()
    {
        var ca = _certificate is null
            ? ""
            : $"    certificate-authority-data: {Convert.ToBase64String(Encoding.ASCII.GetBytes(_certificate.ExportCertificatePem()))}\n";
        return $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: {{ContextName}}
              cluster:
                server: {{Url}}
            {{ca}}contexts:
            - name: {{ContextName}}
              context:
                cluster: {{ContextName}}
                user: {{ContextName}}
                namespace: default
            current-context: {{ContextName}}
            users:
            - name: {{ContextName}}
              user:
                token: not-checked

            """;
    }

    /// <summary>Writes <see cref="KubeconfigYaml"/> to <paramref name="path"/> and returns the full path.</summary>
    public string WriteKubeconfig(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, KubeconfigYaml());
        return full;
    }

    public KubernetesClientConfiguration ClientConfiguration()
    {
        var config = new KubernetesClientConfiguration { Host = Url, Namespace = "default" };
        if (_certificate is not null)
        {
            config.SslCaCerts = [X509CertificateLoader.LoadCertificate(_certificate.RawData)];
        }

        return config;
    }

    /// <summary>A real KubernetesClient pointed at this server.</summary>
    public Kubernetes CreateClient() => new(ClientConfiguration());

    /// <summary>
    /// Ends every open watch. By default the response ends cleanly (as on a server-side timeout);
    /// with <paramref name="abortConnections"/> the TCP connection is reset instead. Returns how many were cut.
    /// </summary>
    public int CutWatches(bool abortConnections = false) => Store.CutWatches(abortConnections);

    /// <summary>Forgets the retained watch history: resuming a watch from any older resourceVersion gets 410 Gone.</summary>
    public void CompactHistory() => Store.CompactHistory();

    /// <summary>
    /// Makes the next <paramref name="times"/> requests matching verb (get, list, watch, create, update, patch,
    /// delete, deletecollection or "*") and resource (plural, <c>plural/subresource</c> or "*") fail with a Status of
    /// <paramref name="statusCode"/>, before they reach the store.
    /// </summary>
    public void FailNext(string verb, string resource, int statusCode, int times = 1, string? message = null, string? group = null) =>
        _faults.Add(verb, resource, statusCode, times, message, group);

    /// <summary>Failures queued by <see cref="FailNext"/> and not yet served.</summary>
    public int PendingFailures => _faults.Pending;

    /// <summary>Requests served for a verb and resource (see <see cref="RequestCounter.Get"/>).</summary>
    public long RequestCount(string verb, string resource, string? group = null) => Requests.Get(verb, resource, group);

    public IReadOnlyDictionary<RequestKey, long> RequestCounts => Requests.Snapshot();

    public void ResetRequestCounts() => Requests.Reset();

    public int OpenWatches => Store.OpenWatchCount;

    /// <summary>Completes when the server begins to stop (StopAsync, or SIGTERM/SIGINT in the standalone command).</summary>
    public Task Stopping => _stopping.Task;

    public async Task StopAsync()
    {
        var app = _app;
        if (app is null)
        {
            return;
        }

        _app = null;
        Store.CutWatches(abortConnections: true);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(cts.Token).ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _certificate?.Dispose();
    }

    /// <summary>Synchronous dispose (off any synchronization context, so it cannot deadlock a test runner's).</summary>
    public void Dispose() => Task.Run(async () => await DisposeAsync().ConfigureAwait(false)).GetAwaiter().GetResult();

    private static X509Certificate2 CreateSelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=fim-kube-api-double", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(7));
        // Round-trip through PKCS#12 so Kestrel can use the private key on every platform.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }
}
