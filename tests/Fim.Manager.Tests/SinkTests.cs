using System.Net;
using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Pipeline;
using Fim.Manager.Tests.Support;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.Manager.Tests;

public sealed class SinkTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    [Fact]
    public async Task Stdout_sink_writes_one_json_line_per_alert_at_or_above_its_level()
    {
        await using var manager = await TestManager.StartAsync(nats.Server.Url, new Dictionary<string, string?> { ["Fim:Sinks:Stdout:MinLevel"] = "6" });
        await WaitForSinkConsumerAsync("fim-sink-stdout");
        var agent = TestEvents.NewAgentId();
        var added = TestEvents.Event(agent, "/etc/new", "added"); // level 5: below the sink's minimum
        var modified = TestEvents.Event(agent, "/etc/passwd", "modified"); // level 7

        await nats.Client.PublishEventAsync(added);
        await nats.Client.PublishEventAsync(modified);

        await Eventually.TrueAsync(() => manager.StdoutLines().Any(l => l.Contains(modified.EventId)), "alert line on stdout");
        await Eventually.TrueAsync(() => manager.Metrics.SinkDeliveries.WithLabels("stdout", "skipped").Value >= 1, "low alert skipped");
        var line = Assert.Single(manager.StdoutLines(), l => l.Contains(agent));
        // Elastic Common Schema by default: what Elasticsearch, OpenSearch and Loki read without mapping work.
        var ecs = JsonDocument.Parse(line).RootElement;
        Assert.Equal($"{modified.EventId}/550", ecs.GetProperty("event").GetProperty("id").GetString());
        Assert.Equal(7, ecs.GetProperty("event").GetProperty("severity").GetInt32());
        Assert.Equal("/etc/passwd", ecs.GetProperty("file").GetProperty("path").GetString());
        Assert.Equal(agent, ecs.GetProperty("agent").GetProperty("id").GetString());
    }

    [Fact]
    public async Task Stdout_sink_in_native_format_writes_alerts_as_stored()
    {
        await using var manager = await TestManager.StartAsync(nats.Server.Url, new Dictionary<string, string?>
        {
            ["Fim:Sinks:Stdout:Format"] = "native",
            ["Fim:Sinks:Stdout:Consumer"] = "stdout-native",
        });
        await WaitForSinkConsumerAsync("stdout-native");
        var agent = TestEvents.NewAgentId();
        var modified = TestEvents.Event(agent, "/etc/passwd", "modified");

        await nats.Client.PublishEventAsync(modified);

        await Eventually.TrueAsync(() => manager.StdoutLines().Any(l => l.Contains(modified.EventId)), "alert line on stdout");
        var alert = JsonSerializer.Deserialize<Alert>(Assert.Single(manager.StdoutLines(), l => l.Contains(agent)), ContractJson.Default.Options)!;
        Assert.Equal($"{modified.EventId}/550", alert.AlertId);
        Assert.Equal(7, alert.Level);
    }

    [Fact]
    public async Task An_unreadable_alert_is_terminated_and_counted_not_sent_or_retried()
    {
        await using var manager = await TestManager.StartAsync(nats.Server.Url, new Dictionary<string, string?> { ["Fim:Sinks:Stdout:Consumer"] = "stdout-unreadable" });
        await WaitForSinkConsumerAsync("stdout-unreadable");
        var agent = TestEvents.NewAgentId();

        (await nats.Client.Js.PublishAsync(Subjects.Alerts(7, agent), "{not json"u8.ToArray(), NatsRawSerializer<byte[]>.Default)).EnsureSuccess();

        await Eventually.TrueAsync(() => manager.Metrics.SinkDeliveries.WithLabels("stdout", "unreadable").Value == 1, "counted as unreadable");
        var consumer = await nats.Client.Js.GetConsumerAsync(Subjects.AlertsStream, "stdout-unreadable");
        Assert.Equal(0, consumer.Info.NumAckPending);
        Assert.DoesNotContain(manager.StdoutLines(), l => l.Contains(agent));
    }

    [Fact]
    public async Task Webhook_sink_retries_with_backoff_until_the_hook_accepts()
    {
        using var hook = new FakeWebhook(failFirst: 2);
        await using var manager = await TestManager.StartAsync(nats.Server.Url, WebhookSettings(hook, consumer: "hook-retry", maxDeliver: 5));
        await WaitForSinkConsumerAsync("hook-retry");
        var agent = TestEvents.NewAgentId();
        var e = TestEvents.Event(agent, "/etc/shadow", "modified");

        await nats.Client.PublishEventAsync(e);

        await Eventually.TrueAsync(() => hook.Bodies.Count(b => b.Contains(agent)) >= 3, "three attempts");
        await Eventually.TrueAsync(() => manager.Metrics.SinkDeliveries.WithLabels("webhook", "delivered").Value == 1, "delivered once");
        Assert.Equal(2, manager.Metrics.SinkDeliveries.WithLabels("webhook", "retry").Value);
        using var body = JsonDocument.Parse(hook.Bodies.First(b => b.Contains(agent)));
        var text = body.RootElement.GetProperty("text").GetString()!;
        Assert.Contains("level 7 rule 550", text);
        Assert.Contains("/etc/shadow", text);
        Assert.Contains("pci_dss:11.5", text);
        // Backoff: the retries were spread out, not fired back to back.
        var times = hook.Times.ToList();
        Assert.True(times[^1] - times[0] >= TimeSpan.FromMilliseconds(250), $"attempts came within {times[^1] - times[0]}");
    }

    [Fact]
    public async Task Webhook_sink_gives_up_after_max_deliveries_into_the_dead_letter_stream()
    {
        using var hook = new FakeWebhook(failFirst: int.MaxValue);
        await using var manager = await TestManager.StartAsync(nats.Server.Url, WebhookSettings(hook, consumer: "hook-broken", maxDeliver: 3));
        await WaitForSinkConsumerAsync("hook-broken");
        var agent = TestEvents.NewAgentId();

        await nats.Client.PublishEventAsync(TestEvents.Event(agent, "/etc/group", "deleted"));

        var copies = await Eventually.CountAsync(
            async () => (IReadOnlyList<ReadMessage>)[.. (await nats.Client.DeadLettersAsync(DeadLetter.WebhookFailed)).Where(m => m.Text.Contains(agent))],
            1, "webhook dead letter");
        Assert.Equal("webhook", copies[0].Header(DeadLetter.ReasonHeader));
        Assert.Equal(3, hook.Bodies.Count(b => b.Contains(agent)));
        // The pipeline itself was never slowed or failed by the broken sink.
        Assert.Single(await nats.Client.AlertsAsync(agent));
    }

    [Fact]
    public async Task Webhook_notifications_the_hook_keeps_failing_go_to_the_dead_letter_stream_like_alerts()
    {
        using var hook = new FakeWebhook(failFirst: int.MaxValue);
        await using var manager = await TestManager.StartAsync(nats.Server.Url, WebhookSettings(hook, consumer: "hook-notes-broken", maxDeliver: 2));
        await WaitForSinkConsumerAsync("hook-notes-broken");
        var note = new Notification
        {
            Id = "note-" + Guid.NewGuid().ToString("N"),
            Kind = Notification.PoolScaled,
            Time = DateTimeOffset.UtcNow,
            Source = "test",
            Regarding = "pool fim/default",
            Text = "pool fim/default scaled from 2 to 3 managers",
        };

        (await nats.Client.Js.PublishAsync(Notification.Subject(note.Kind), ContractJson.ToUtf8(note), NatsRawSerializer<byte[]>.Default)).EnsureSuccess();

        var copies = await Eventually.CountAsync(
            async () => (IReadOnlyList<ReadMessage>)[.. (await nats.Client.DeadLettersAsync(DeadLetter.WebhookFailed)).Where(m => m.Text.Contains(note.Id))],
            1, "notification dead letter");
        Assert.Equal("webhook", copies[0].Header(DeadLetter.ReasonHeader));
        Assert.Contains("webhook-notifications failed 2 times", copies[0].Header(DeadLetter.DetailHeader));
        Assert.Equal(2, hook.Bodies.Count(b => b.Contains("scaled from 2 to 3")));
        await Eventually.TrueAsync(() => manager.Metrics.SinkDeliveries.WithLabels("webhook-notifications", "failed").Value == 1, "counted as failed");
    }

    [Fact]
    public async Task Webhook_sink_refuses_a_redirect_to_another_host_and_port_and_nothing_reaches_it()
    {
        using var elsewhere = new FakeWebhook(failFirst: 0);
        using var hook = new RedirectingWebhook(HttpStatusCode.Found, elsewhere.Url);
        await using var manager = await TestManager.StartAsync(nats.Server.Url, WebhookSettings(hook.Url, consumer: "hook-redirect-away", maxDeliver: 5));
        await WaitForSinkConsumerAsync("hook-redirect-away");
        var agent = TestEvents.NewAgentId();

        await nats.Client.PublishEventAsync(TestEvents.Event(agent, "/etc/shadow", "modified"));

        // Reported: dead-lettered at once (a redirect does not go away with retries), the log says why.
        var copies = await Eventually.CountAsync(
            async () => (IReadOnlyList<ReadMessage>)[.. (await nats.Client.DeadLettersAsync(DeadLetter.WebhookFailed)).Where(m => m.Text.Contains(agent))],
            1, "webhook dead letter");
        Assert.Contains("refused", copies[0].Header(DeadLetter.DetailHeader));
        Assert.Equal(1, manager.Metrics.SinkDeliveries.WithLabels("webhook", "refused").Value);
        Assert.Single(hook.Requests, r => r.Body.Contains(agent));
        // No request reached the other host, then or later.
        await nats.Client.PublishEventAsync(TestEvents.Event(agent, "/etc/passwd", "modified"));
        await Eventually.TrueAsync(async () => (await nats.Client.DeadLettersAsync(DeadLetter.WebhookFailed)).Count(m => m.Text.Contains(agent)) == 2, "second dead letter");
        Assert.Empty(elsewhere.Bodies);
    }

    [Fact]
    public async Task Webhook_sink_follows_a_redirect_on_the_same_host_and_port_posting_the_same_alert()
    {
        using var hook = new RedirectingWebhook(HttpStatusCode.MovedPermanently, null);
        await using var manager = await TestManager.StartAsync(nats.Server.Url, WebhookSettings(hook.Url, consumer: "hook-redirect-same", maxDeliver: 5));
        await WaitForSinkConsumerAsync("hook-redirect-same");
        var agent = TestEvents.NewAgentId();

        await nats.Client.PublishEventAsync(TestEvents.Event(agent, "/etc/shadow", "modified"));

        await Eventually.TrueAsync(() => manager.Metrics.SinkDeliveries.WithLabels("webhook", "delivered").Value == 1, "delivered once");
        var requests = hook.Requests.Where(r => r.Body.Contains(agent)).ToList();
        Assert.Equal([("POST", new Uri(hook.Url).AbsolutePath), ("POST", RedirectingWebhook.MovedPath)], requests.Select(r => (r.Method, r.Path)));
        Assert.Equal(requests[0].Body, requests[1].Body);
    }

    [Theory]
    [InlineData("https://hooks.example.com/a", "https://hooks.example.com/b", true)]
    [InlineData("https://hooks.example.com/a", "https://HOOKS.example.com:443/b", true)]
    [InlineData("https://hooks.example.com/a", "https://evil.example.com/a", false)]
    [InlineData("https://hooks.example.com/a", "https://hooks.example.com:8443/a", false)]
    [InlineData("https://hooks.example.com/a", "http://hooks.example.com/a", false)]
    [InlineData("https://hooks.example.com/a", "https://hooks.example.com.evil.net/a", false)]
    public void Same_origin_means_same_scheme_host_and_port(string from, string to, bool same) =>
        Assert.Equal(same, Fim.Manager.Sinks.WebhookRedirects.SameOrigin(new Uri(from), new Uri(to)));

    private static Dictionary<string, string?> WebhookSettings(FakeWebhook hook, string consumer, int maxDeliver) => WebhookSettings(hook.Url, consumer, maxDeliver);

    private static Dictionary<string, string?> WebhookSettings(string url, string consumer, int maxDeliver) => new()
    {
        ["Fim:Sinks:Stdout:Enabled"] = "false",
        ["Fim:Sinks:Webhook:Url"] = url,
        ["Fim:Sinks:Webhook:MinLevel"] = "1",
        ["Fim:Sinks:Webhook:Consumer"] = consumer,
        ["Fim:Sinks:Webhook:RetryDelay"] = "00:00:00.150",
        ["Fim:Sinks:Webhook:MaxRetryDelay"] = "00:00:01",
        ["Fim:Sinks:Webhook:MaxDeliver"] = maxDeliver.ToString(),
        ["Fim:Sinks:Webhook:Timeout"] = "00:00:02",
    };

    private Task WaitForSinkConsumerAsync(string name) =>
        Eventually.TrueAsync(async () =>
        {
            try
            {
                await nats.Client.Js.GetConsumerAsync(Subjects.AlertsStream, name);
                return true;
            }
            catch (NATS.Client.JetStream.NatsJSApiException)
            {
                return false;
            }
        }, $"sink consumer {name}");
}

/// <summary>A Slack-like webhook on 127.0.0.1 that answers 500 to the first N posts, then 200.</summary>
public sealed class FakeWebhook : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly int _failFirst;
    private int _seen;

    public FakeWebhook(int failFirst)
    {
        _failFirst = failFirst;
        Url = $"http://127.0.0.1:{NatsServer.FreePort()}/services/T000/B000/secret/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    public string Url { get; }
    public System.Collections.Concurrent.ConcurrentQueue<string> Bodies { get; } = new();
    public System.Collections.Concurrent.ConcurrentQueue<DateTimeOffset> Times { get; } = new();

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream);
            Bodies.Enqueue(await reader.ReadToEndAsync());
            Times.Enqueue(DateTimeOffset.UtcNow);
            context.Response.StatusCode = Interlocked.Increment(ref _seen) <= _failFirst ? 500 : 200;
            context.Response.Close();
        }
    }

    public void Dispose() => _listener.Close();
}

/// <summary>
/// A webhook on 127.0.0.1 that answers its URL with a redirect: to <c>elsewhere</c> when given, else to
/// <see cref="MovedPath"/> on itself, which answers 200. Records every request.
/// </summary>
public sealed class RedirectingWebhook : IDisposable
{
    public const string MovedPath = "/moved/hook";

    private readonly HttpListener _listener = new();
    private readonly HttpStatusCode _status;
    private readonly string? _elsewhere;

    public RedirectingWebhook(HttpStatusCode status, string? elsewhere)
    {
        _status = status;
        _elsewhere = elsewhere;
        var root = $"http://127.0.0.1:{NatsServer.FreePort()}/";
        Url = root + "services/T000/B000/secret/";
        _listener.Prefixes.Add(root);
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    public string Url { get; }
    public System.Collections.Concurrent.ConcurrentQueue<(string Method, string Path, string Body)> Requests { get; } = new();

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream);
            var path = context.Request.Url!.AbsolutePath;
            Requests.Enqueue((context.Request.HttpMethod, path, await reader.ReadToEndAsync()));
            if (path == MovedPath)
            {
                context.Response.StatusCode = 200;
            }
            else
            {
                context.Response.StatusCode = (int)_status;
                context.Response.RedirectLocation = _elsewhere ?? MovedPath;
            }
            context.Response.Close();
        }
    }

    public void Dispose() => _listener.Close();
}
