using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Kubernetes;

/// <summary>Where the Kubernetes API is and how to log in: in-cluster (service account) unless given.</summary>
public sealed record KubeApiEndpoint(Uri Server, string? TokenFile, string? CaFile)
{
    public const string ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>The in-cluster endpoint, or null outside a pod (no KUBERNETES_SERVICE_HOST).</summary>
    public static KubeApiEndpoint? InCluster()
    {
        var host = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        var port = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT") ?? "443";
        if (string.IsNullOrEmpty(host))
        {
            return null;
        }
        var authority = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        return new KubeApiEndpoint(new Uri($"https://{authority}:{port}"), Path.Combine(ServiceAccountDir, "token"), Path.Combine(ServiceAccountDir, "ca.crt"));
    }
}

/// <summary>
/// Lists and watches the pods of one node (<c>fieldSelector=spec.nodeName=&lt;node&gt;</c>), the only API access the
/// agent has (get/list/watch on pods), into a <see cref="PodDirectory"/>. Relists when the watch's resource version
/// expired (410), rewatches after a broken stream, retries after a delay when the API is unreachable.
/// Plain HttpClient and source-generated JSON: KubernetesClient's AOT build has no watch, and the full one is not
/// AOT-safe.
/// </summary>
public sealed class KubePodWatcher : IDisposable
{
    private readonly HttpClient _http;
    private readonly KubeApiEndpoint _endpoint;
    private readonly string _node;
    private readonly PodDirectory _pods;
    private readonly ILogger _logger;
    private readonly TimeSpan _retryDelay;

    public KubePodWatcher(KubeApiEndpoint endpoint, string nodeName, PodDirectory pods, ILogger logger, TimeSpan? retryDelay = null)
    {
        if (string.IsNullOrWhiteSpace(nodeName))
        {
            throw new ArgumentException("the node name is empty: set Kubernetes:NodeName (the chart passes spec.nodeName as NODE_NAME)", nameof(nodeName));
        }
        _endpoint = endpoint;
        _node = nodeName;
        _pods = pods;
        _logger = logger;
        _retryDelay = retryDelay ?? TimeSpan.FromSeconds(5);
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        if (endpoint.CaFile is { } ca && File.Exists(ca))
        {
            var trusted = X509CertificateLoader.LoadCertificateFromFile(ca);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, chain, errors) =>
            {
                if (errors == System.Net.Security.SslPolicyErrors.None)
                {
                    return true;
                }
                if (cert is null || chain is null)
                {
                    return false;
                }
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(trusted);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(cert));
            };
        }
        _http = new HttpClient(handler) { BaseAddress = endpoint.Server, Timeout = Timeout.InfiniteTimeSpan };
    }

    private string Selector => Uri.EscapeDataString($"spec.nodeName={_node}");

    /// <summary>Until cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var version = await ListAsync(ct);
                while (version is not null && !ct.IsCancellationRequested)
                {
                    version = await WatchAsync(version, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException or KubeApiException)
            {
                _logger.LogWarning("reading the pods of node {Node} from {Server} failed, retrying in {Delay}: {Error}", _node, _endpoint.Server, _retryDelay, e.Message);
                await Task.Delay(_retryDelay, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task<string> ListAsync(CancellationToken ct)
    {
        using var request = Request($"/api/v1/pods?fieldSelector={Selector}");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await EnsureSuccessAsync(response, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var list = await JsonSerializer.DeserializeAsync(body, KubeJson.Default.KubePodList, ct)
            ?? throw new KubeApiException("the pod list was empty");
        _pods.Replace((list.Items ?? []).Select(PodInfo.From).OfType<PodInfo>());
        _logger.LogInformation("{Count} pods on node {Node}", list.Items?.Count ?? 0, _node);
        return list.Metadata?.ResourceVersion ?? "";
    }

    /// <summary>Applies watch events; returns the version to rewatch from, or null to relist (410 Gone).</summary>
    private async Task<string?> WatchAsync(string version, CancellationToken ct)
    {
        using var request = Request($"/api/v1/pods?fieldSelector={Selector}&watch=true&allowWatchBookmarks=true&resourceVersion={Uri.EscapeDataString(version)}");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.Gone)
        {
            return null;
        }
        await EnsureSuccessAsync(response, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(body);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }
            var e = JsonSerializer.Deserialize(line, KubeJson.Default.KubeWatchEvent);
            if (e?.Type is null)
            {
                continue;
            }
            if (e.Type == "ERROR")
            {
                var status = e.Object.Deserialize(KubeJson.Default.KubeStatus);
                if (status?.Code == 410)
                {
                    return null;
                }
                throw new KubeApiException($"watch error {status?.Code}: {status?.Message}");
            }
            var pod = e.Object.Deserialize(KubeJson.Default.KubePod);
            if (pod?.Metadata.ResourceVersion is { } rv)
            {
                version = rv;
            }
            if (e.Type == "BOOKMARK" || pod is null)
            {
                continue;
            }
            if (e.Type == "DELETED")
            {
                if (pod.Metadata.Uid is { } uid)
                {
                    _pods.Remove(uid);
                }
            }
            else if (PodInfo.From(pod) is { } info)
            {
                _pods.Upsert(info);
            }
        }
        return version;
    }

    private HttpRequestMessage Request(string pathAndQuery)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        if (_endpoint.TokenFile is { } file && File.Exists(file))
        {
            // Re-read each time: projected service account tokens are rotated on disk.
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(file).Trim());
        }
        return request;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var text = await response.Content.ReadAsStringAsync(ct);
        throw new KubeApiException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}: {(text.Length > 300 ? text[..300] : text)}");
    }

    public void Dispose() => _http.Dispose();
}

public sealed class KubeApiException(string message) : Exception(message);
