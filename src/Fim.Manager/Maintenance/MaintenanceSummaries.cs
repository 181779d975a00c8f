using System.Globalization;
using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Api;
using Fim.Manager.Nats;
using Fim.Manager.Options;
using Fim.Nats;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Maintenance;

/// <summary>What changed on the agents of a window while it was open: its alerts, by kind and by path.</summary>
public sealed record MaintenanceSummary(int Alerts, IReadOnlyDictionary<string, int> ByKind, IReadOnlyList<(string Path, int Count)> TopPaths, IReadOnlyList<string> Agents, int MaxRuleLevel)
{
    public const int TopPathCount = 10;

    public static MaintenanceSummary Of(IEnumerable<Alert> alerts)
    {
        var list = alerts.ToList();
        return new MaintenanceSummary(
            list.Count,
            list.GroupBy(a => a.Kind, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            [.. list.GroupBy(a => a.Path, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Take(TopPathCount).Select(g => (g.Key, g.Count()))],
            [.. list.Select(a => a.AgentId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            list.Count == 0 ? 0 : list.Max(a => a.Rule.Level));
    }

    /// <summary>The notification: one line for the webhook, the same as details.</summary>
    public Notification ToNotification(MaintenanceWindow w, DateTimeOffset now)
    {
        var who = w.Node is { } node ? $"Node {node}" : $"Maintenance window {w.Id}";
        var length = w.ClosesAt - w.Start;
        var span = $"{w.Start.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z to {w.ClosesAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z ({(length.TotalHours >= 1 ? $"{(int)length.TotalHours}h{length.Minutes:00}m" : $"{length.Minutes}m{length.Seconds:00}s")})";
        var kinds = string.Join(", ", ByKind.Select(k => $"{k.Key} {k.Value}"));
        var paths = string.Join(", ", TopPaths.Select(p => $"{p.Path} ({p.Count})"));
        var text = Alerts == 0
            ? $"FIM: {who} back from maintenance ({w.Reason}), {span}: no changes"
            : $"FIM: {who} back from maintenance ({w.Reason}), {span}: {Alerts} changes ({kinds}) on {string.Join(", ", Agents)}; highest rule level {MaxRuleLevel}; top paths: {paths}";
        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["window"] = w.Id,
            ["start"] = w.Start.ToString("O", CultureInfo.InvariantCulture),
            ["end"] = w.ClosesAt.ToString("O", CultureInfo.InvariantCulture),
            ["alerts"] = Alerts.ToString(CultureInfo.InvariantCulture),
            ["agents"] = string.Join(",", Agents),
            ["maxRuleLevel"] = MaxRuleLevel.ToString(CultureInfo.InvariantCulture),
            ["topPaths"] = string.Join("\n", TopPaths.Select(p => $"{p.Count} {p.Path}")),
        };
        if (w.Node is not null)
        {
            details["node"] = w.Node;
        }
        foreach (var (kind, count) in ByKind)
        {
            details["kind." + kind] = count.ToString(CultureInfo.InvariantCulture);
        }
        return new Notification
        {
            Id = $"{Notification.MaintenanceSummary}:{w.Id}",
            Kind = Notification.MaintenanceSummary,
            Time = now,
            Source = "fim-manager",
            Regarding = w.Node is { } n ? $"node/{n}" : $"maintenance/{w.Id}",
            Text = text,
            Details = details,
        };
    }
}

/// <summary>
/// Summaries of closed maintenance windows that ask for one (onEnd summary: a node back from its hold-off). Once a window
/// has been closed for Fim:Maintenance:SummaryDelay (time for changes still in agents' outboxes to be judged), a manager
/// reads its alerts from FIM_ALERTS (those tagged maintenance:&lt;id&gt;), publishes the summary to FIM_NOTIFICATIONS
/// (message id per window, so managers racing store it once) and marks the window summarizedAt (over the revision it
/// read: one manager wins). A summary is sent even when nothing changed, so people know the node came back clean.
/// </summary>
public sealed class MaintenanceSummaries(
    MaintenanceWindows windows,
    NatsConnector nats,
    StreamQuery query,
    IOptions<MaintenanceOptions> options,
    IOptions<PipelineOptions> pipeline,
    MaintenanceClock clock,
    ILogger<MaintenanceSummaries> log) : BackgroundService
{
    private INatsKVStore? _store;

    /// <summary>Summaries this manager sent.</summary>
    public int Sent { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromTicks(Math.Clamp(options.Value.SummaryDelay.Ticks / 4, TimeSpan.FromMilliseconds(500).Ticks, TimeSpan.FromSeconds(30).Ticks));
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                foreach (var w in windows.All.Where(Due).ToList())
                {
                    try
                    {
                        await SummarizeAsync(w.Id, stoppingToken);
                    }
                    catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                    {
                        log.LogWarning("Summarizing maintenance window {Window}: {Error}; retrying", w.Id, e.Message);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private bool Due(MaintenanceWindow w) =>
        w.OnEnd == MaintenanceWindow.OnEndSummary && w.SummarizedAt is null && w.ClosesAt + options.Value.SummaryDelay <= clock.Time.GetUtcNow();

    private async Task SummarizeAsync(string id, CancellationToken ct)
    {
        _store ??= await FimBuckets.OpenOrCreateAsync(await nats.KeyValueAsync(ct), Subjects.MaintenanceBucket, pipeline.Value.Replicas, ct);
        var entry = await _store.TryGetEntryAsync<byte[]>(id, serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: ct);
        if (!entry.Success || entry.Value.Value is not { Length: > 0 } data
            || JsonSerializer.Deserialize(data, ContractJson.Default.MaintenanceWindow) is not { } w || !Due(w))
        {
            return; // gone, or another manager summarized it (the watch brings that soon)
        }

        var tag = MaintenanceWindow.Tag(w.Id);
        var filter = w.AgentIds is [var only] ? Subjects.AlertsOf(only) : Subjects.AllAlerts;
        var alerts = new List<Alert>();
        // Alerts are stored after the change they report: from the window's start on is enough.
        await foreach (var msg in query.ReadAsync(Subjects.AlertsStream, filter, w.Start, ct))
        {
            Alert? alert;
            try
            {
                alert = JsonSerializer.Deserialize(msg.Data ?? [], ContractJson.Default.Alert);
            }
            catch (JsonException)
            {
                continue;
            }
            if (alert is not null && alert.Tags.Contains(tag, StringComparer.Ordinal))
            {
                alerts.Add(alert);
            }
        }

        var now = clock.Time.GetUtcNow();
        var notification = MaintenanceSummary.Of(alerts).ToNotification(w, now);
        var js = await nats.JetStreamAsync(ct);
        var ack = await js.PublishAsync(Notification.Subject(notification.Kind), ContractJson.ToUtf8(notification), NatsRawSerializer<byte[]>.Default,
            new NatsJSPubOpts { MsgId = notification.Id }, cancellationToken: ct);
        ack.EnsureSuccess();
        w.SummarizedAt = now;
        try
        {
            await _store.UpdateAsync(id, JsonSerializer.SerializeToUtf8Bytes(w, ContractJson.Default.MaintenanceWindow), entry.Value.Revision,
                serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: ct);
        }
        catch (NatsKVWrongLastRevisionException)
        {
            return; // another manager marked it first; its publish and ours were one message (same id)
        }
        Sent++;
        log.LogInformation("Maintenance window {Window} summarized: {Text}", w.Id, notification.Text);
    }
}
