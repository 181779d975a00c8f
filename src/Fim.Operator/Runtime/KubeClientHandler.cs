using System.Diagnostics;
using System.Threading.RateLimiting;
using Prometheus;

namespace Fim.Operator.Runtime;

/// <summary>Client-side limits of the operator's requests to the API server (client-go's QPS and burst).</summary>
public sealed record KubeClientOptions
{
    /// <summary>
    /// Sustained requests per second across all controllers; 0 = unlimited, the default: like controller-runtime since
    /// v0.21, the operator relies on the API server's Priority and Fairness (and its own bounded workers) rather than a
    /// client-side bucket, which made a first start on 5,000 nodes take 250 s at client-go's old 20/s.
    /// </summary>
    public double Qps { get; init; }

    public int Burst { get; init; } = 30;
}

/// <summary>
/// One global token bucket in front of every request the operator sends to the API server, and the API-client
/// metrics: requests by verb and status code, latency to the response headers, time spent waiting for a token.
/// A watch counts once, when it starts.
/// </summary>
public sealed class KubeClientHandler : DelegatingHandler
{
    private static readonly Counter Requests = Metrics.CreateCounter(
        "fim_operator_kube_requests_total", "Requests to the Kubernetes API by verb and HTTP status code (\"error\" when no response).", "verb", "code");

    private static readonly Histogram Latency = Metrics.CreateHistogram(
        "fim_operator_kube_request_duration_seconds", "Time to the response headers of Kubernetes API requests.", new HistogramConfiguration
        {
            LabelNames = ["verb"],
            Buckets = Histogram.ExponentialBuckets(0.001, 2, 14),
        });

    private static readonly Histogram RateLimiterWait = Metrics.CreateHistogram(
        "fim_operator_kube_rate_limiter_wait_seconds", "Time requests waited for the client-side rate limiter.", new HistogramConfiguration
        {
            Buckets = Histogram.ExponentialBuckets(0.001, 2, 14),
        });

    private readonly TokenBucketRateLimiter? _limiter;

    public KubeClientHandler(KubeClientOptions options)
    {
        _limiter = options.Qps <= 0 ? null : new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, options.Burst),
            TokensPerPeriod = Math.Max(1, (int)Math.Ceiling(options.Qps / 10)),
            ReplenishmentPeriod = TimeSpan.FromSeconds(Math.Max(1, (int)Math.Ceiling(options.Qps / 10)) / options.Qps),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (_limiter is not null)
        {
            var waited = Stopwatch.GetTimestamp();
            using var lease = await _limiter.AcquireAsync(1, ct);
            RateLimiterWait.Observe(Stopwatch.GetElapsedTime(waited).TotalSeconds);
        }

        var verb = Verb(request);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await base.SendAsync(request, ct);
            Requests.WithLabels(verb, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
            return response;
        }
        catch
        {
            Requests.WithLabels(verb, "error").Inc();
            throw;
        }
        finally
        {
            Latency.WithLabels(verb).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    private static string Verb(HttpRequestMessage request) => request.Method.Method switch
    {
        "GET" when request.RequestUri?.Query.Contains("watch=true", StringComparison.Ordinal) == true => "watch",
        "GET" => IsCollection(request.RequestUri) ? "list" : "get",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => request.Content?.Headers.ContentType?.MediaType == "application/apply-patch+yaml" ? "apply" : "patch",
        "DELETE" => "delete",
        var m => m.ToLowerInvariant(),
    };

    /// <summary>/api/v1[/namespaces/NS]/PLURAL or /apis/G/V[/namespaces/NS]/PLURAL: a list, not a get.</summary>
    private static bool IsCollection(Uri? uri)
    {
        var segments = uri?.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        var rest = segments switch
        {
            ["api", _, .. var r] => r,
            ["apis", _, _, .. var r] => r,
            _ => [],
        };
        if (rest is ["namespaces", _, _, ..])
        {
            rest = rest[2..];
        }

        return rest.Length == 1;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _limiter?.Dispose();
        }

        base.Dispose(disposing);
    }
}
