using System.Net.Http.Json;
using Fim.Contracts;
using Fim.Manager.Options;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;

namespace Fim.Manager.Sinks;

/// <summary>
/// Posts alerts at or above a level to a Slack-compatible incoming webhook ({"text": ...}). A failure (timeout, 5xx,
/// 429, connection refused) is retried with exponential backoff through the consumer (nak with delay), up to MaxDeliver:
/// that retry survives a manager restart. The HTTP client's own pipeline only bounds each attempt and retries, once and
/// at once, a connection that failed before the hook answered (a pooled connection the server had closed).
/// </summary>
public sealed class WebhookAlertSink(IOptions<SinkOptions> options, IHttpClientFactory clients, ILogger<WebhookAlertSink> log) : IAlertSink
{
    public const string HttpClientName = "fim-webhook";

    private readonly WebhookSinkOptions _options = options.Value.Webhook;

    public string Name => "webhook";
    public bool Enabled => _options.Enabled;
    public string Consumer => _options.Consumer;
    public TimeSpan AckWait => _options.AckWait;
    public int MaxDeliver => _options.MaxDeliver;

    public TimeSpan RetryDelay(ulong delivered) => _options.Backoff(delivered);

    public async Task<SinkResult> DeliverAsync(Alert alert, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        if (alert.Level < _options.MinLevel)
        {
            return SinkResult.Skipped;
        }
        return await PostAsync(Text(alert), $"alert {alert.AlertId}", cancellationToken);
    }

    /// <summary>
    /// Posts {"text": <paramref name="text"/>} to the hook, following only same-origin redirects; <paramref name="what"/>
    /// names it in the log (never the URL). Also the notification sink's way out.
    /// </summary>
    public async Task<SinkResult> PostAsync(string text, string what, CancellationToken cancellationToken)
    {
        try
        {
            var client = clients.CreateClient(HttpClientName);
            var body = new { text };
            // Enabled means the URL was set and validated as absolute http(s).
            var target = new Uri(_options.Url!);
            // The handler follows no redirect (AllowAutoRedirect off): a redirect is decided here, where the origin is known.
            for (var hop = 0; ; hop++)
            {
                using var response = await client.PostAsJsonAsync(target, body, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return SinkResult.Delivered;
                }
                if (WebhookRedirects.IsRedirect(response.StatusCode))
                {
                    var next = WebhookRedirects.Target(target, response.Headers.Location);
                    if (next is null || !WebhookRedirects.SameOrigin(target, next))
                    {
                        // Never where it points (the URL and its target are secrets): only that it left the configured origin.
                        log.LogWarning("Webhook answered {Status} for {What} with a redirect to another host, port or scheme: refused, not followed",
                            (int)response.StatusCode, what);
                        return SinkResult.Refused;
                    }
                    if (hop >= WebhookRedirects.MaxSameOriginHops)
                    {
                        log.LogWarning("Webhook answered {Status} for {What}: more than {Hops} redirects on the same host, refused",
                            (int)response.StatusCode, what, WebhookRedirects.MaxSameOriginHops);
                        return SinkResult.Refused;
                    }
                    target = next;
                    continue;
                }
                // The URL is a secret (Slack's holds the token): say which alert and what status, never where.
                log.LogWarning("Webhook answered {Status} for {What}", (int)response.StatusCode, what);
                return SinkResult.Retry;
            }
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning("Webhook failed for {What}: {Error}", what, e.GetType().Name);
            return SinkResult.Retry;
        }
    }

    /// <summary>The webhook client's resilience pipeline: one quick retry of a failed connection, then the attempt timeout.</summary>
    public static void ConfigureResilience(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, WebhookSinkOptions options) => pipeline
        .AddRetry(new HttpRetryStrategyOptions
        {
            // An answer (5xx, 429) goes back to JetStream with the sink's backoff; only a connection failure is retried here.
            ShouldHandle = new PredicateBuilder<HttpResponseMessage>().Handle<HttpRequestException>(),
            MaxRetryAttempts = 1,
            Delay = TimeSpan.FromMilliseconds(100),
            BackoffType = DelayBackoffType.Constant,
        })
        .AddTimeout(options.Timeout);

    public static string Text(Alert a)
    {
        var compliance = a.Compliance.Count > 0 ? $" [{string.Join(", ", a.Compliance)}]" : "";
        return $"FIM level {a.Level} rule {a.Rule.Id}: {a.Rule.Description} {a.Path} ({a.Kind}) on {a.AgentId}" +
            (string.IsNullOrEmpty(a.Host) || a.Host == a.AgentId ? "" : $" ({a.Host})") + compliance;
    }
}
