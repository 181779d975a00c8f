using Fim.Agent.Output;
using Fim.Agent.Realtime;
using Fim.Agent.Telemetry;
using Fim.Core.Baseline;
using Fim.Core.Model;
using Fim.Core.Scanning;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Fim.Agent.Monitoring;

/// <summary>
/// The standalone agent's main loop: watch first (so nothing slips between scan and watch), scan to report what
/// changed while the agent was stopped, then turn realtime notifications into alerts, rescanning on schedule and
/// wherever the kernel could not give a complete picture (queue overflow, watch limit, new directories).
/// One thread owns the baseline; each batch reaches the journal before its alerts are printed.
/// </summary>
public sealed class WatchLoop(
    MonitorSession session,
    IAlertOutput output,
    AlertFactory alerts,
    InotifyWatcher watcher,
    ILogger logger,
    TimeProvider time)
{
    /// <summary>Subtrees the watch limit left unwatched are polled this often (and at every scheduled rescan).</summary>
    public TimeSpan UnwatchedPollInterval { get; init; } = TimeSpan.FromSeconds(60);

    private readonly AlertRateLimiter _rateLimiter = new(session.Policy.EventsPerSecond, time);
    private readonly HashSet<byte[]> _unwatched = new(PathComparer.Instance);
    private Scanner _realtimeScanner = null!;

    /// <summary>Raised after the initial scan, when realtime detection is live (tests and the CLI wait on it).</summary>
    public event Action? Ready;

    public async Task RunAsync(CancellationToken ct)
    {
        _realtimeScanner = session.CreateScanner(verifyFull: false, recordOnly: false, DetectionSource.Realtime);
        var probe = session.CreateScanner(false, false);
        foreach (var rule in session.Policy.Rules.Where(r => r.Realtime))
        {
            watcher.AddRoot(rule.Root, probe.ShouldWatch);
        }
        AgentMetrics.Watches.Set(watcher.WatchCount);
        var watching = Task.Factory.StartNew(() => watcher.RunAsync(ct), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

        var firstRun = !session.HasBaseline;
        RunScan("startup", verifyFull: false, recordOnly: firstRun, ct);
        AlertFactory.WarmUp();
        logger.LogInformation("realtime detection on {Roots} with {Watches} watches; rescan every {Interval}",
            string.Join(", ", session.Policy.Rules.Select(r => r.RootDisplay)), watcher.WatchCount, session.Policy.RescanInterval);
        Ready?.Invoke();

        var nextRescan = time.GetUtcNow() + session.Policy.RescanInterval;
        var nextFullVerify = session.Policy.FullVerifyInterval is { } f ? time.GetUtcNow() + f : DateTimeOffset.MaxValue;
        var nextPoll = time.GetUtcNow() + UnwatchedPollInterval;
        var reader = watcher.Notifications;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var now = time.GetUtcNow();
                var due = Min(nextRescan, _unwatched.Count > 0 ? nextPoll : DateTimeOffset.MaxValue);
                if (now >= due)
                {
                    if (now >= nextRescan)
                    {
                        var full = now >= nextFullVerify;
                        RunScan(full ? "full-verify" : "schedule", full, false, ct);
                        nextRescan = now + session.Policy.RescanInterval;
                        if (full && session.Policy.FullVerifyInterval is { } fv)
                        {
                            nextFullVerify = now + fv;
                        }
                    }
                    else
                    {
                        foreach (var root in _unwatched.ToList())
                        {
                            RescanSubtree(root, "watch-limit-poll", ct);
                        }
                    }
                    nextPoll = now + UnwatchedPollInterval;
                    continue;
                }
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                wait.CancelAfter(Clamp(due - now));
                try
                {
                    if (!await reader.WaitToReadAsync(wait.Token))
                    {
                        break; // the watcher stopped
                    }
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    continue; // a timer is due
                }
                ProcessBatch(reader, ct);
                FlushRateLimitSummary();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        await watching.ConfigureAwait(false);
    }

    private void ProcessBatch(System.Threading.Channels.ChannelReader<WatchNotification> reader, CancellationToken ct)
    {
        var paths = new List<byte[]>();
        var seen = new HashSet<byte[]>(PathComparer.Instance);
        var subtrees = new List<(byte[] Root, string Reason)>();
        while (reader.TryRead(out var n))
        {
            switch (n)
            {
                case SubtreeRescan s:
                    subtrees.Add((s.Root, ReasonName(s.Reason)));
                    CountRescanReason(s);
                    break;
                case PathChanged p when p.IsDirectory && (p.Hint & (ChangeHint.Created | ChangeHint.Deleted | ChangeHint.MovedIn | ChangeHint.MovedOut)) != 0:
                    // A directory appearing or leaving carries its whole subtree with it.
                    subtrees.Add((p.Path, "directory-" + p.Hint.ToString().ToLowerInvariant()));
                    AddParent(p.Path, paths, seen);
                    break;
                case PathChanged p:
                    if (seen.Add(p.Path))
                    {
                        paths.Add(p.Path);
                    }
                    if ((p.Hint & (ChangeHint.Created | ChangeHint.Deleted | ChangeHint.MovedIn | ChangeHint.MovedOut)) != 0)
                    {
                        AddParent(p.Path, paths, seen);
                    }
                    break;
            }
        }
        foreach (var (root, reason) in subtrees)
        {
            RescanSubtree(root, reason, ct);
        }
        var pending = new List<BaselineUpdate>();
        var changes = new List<FileChange>();
        foreach (var path in paths)
        {
            if (session.Observe(_realtimeScanner, path, pending) is { } change)
            {
                changes.Add(change);
            }
        }
        session.Commit(pending, snapshot: false);
        Emit(changes);
    }

    private void AddParent(byte[] path, List<byte[]> paths, HashSet<byte[]> seen)
    {
        var parent = PathBytes.Parent(path).ToArray();
        if (session.Policy.RuleFor(parent) is not null && seen.Add(parent))
        {
            paths.Add(parent);
        }
    }

    private void CountRescanReason(SubtreeRescan s)
    {
        switch (s.Reason)
        {
            case RescanReason.QueueOverflow:
                AgentMetrics.RealtimeOverflows.Inc();
                logger.LogWarning("inotify queue overflowed: events were lost, rescanning {Root}", PathBytes.ToDisplay(s.Root));
                break;
            case RescanReason.WatchLimit:
                AgentMetrics.WatchLimitHits.Inc();
                _unwatched.Add(s.Root);
                logger.LogWarning("inotify watch limit reached: {Root} is not watched in realtime; rescanning it now and every {Interval}",
                    PathBytes.ToDisplay(s.Root), UnwatchedPollInterval);
                break;
        }
    }

    private void RescanSubtree(byte[] root, string reason, CancellationToken ct)
    {
        AgentMetrics.Rescans.WithLabels(reason).Inc();
        using var timer = AgentMetrics.ScanDuration.WithLabels("subtree").NewTimer();
        var result = session.Scan(_realtimeScanner, ct, subtree: root);
        Report(result);
        Emit(result.Changes);
    }

    private void RunScan(string reason, bool verifyFull, bool recordOnly, CancellationToken ct)
    {
        AgentMetrics.Rescans.WithLabels(reason).Inc();
        using var timer = AgentMetrics.ScanDuration.WithLabels(verifyFull ? "full" : "incremental").NewTimer();
        var scanner = session.CreateScanner(verifyFull, recordOnly);
        var result = ScanRunner.ScanChecked(session, scanner, ct);
        Report(result);
        AgentMetrics.BaselineEntries.Set(session.BaselineCount);
        if (recordOnly)
        {
            output.Notice($"baseline recorded: {result.Stats.Entries:N0} entries in {result.Stats.Elapsed.TotalSeconds:N2} s; watching for changes");
            return;
        }
        logger.LogInformation("{Reason} scan: {Changes} changes in {Entries} entries, {Seconds:F2} s",
            reason, result.Changes.Count, result.Stats.Entries, result.Stats.Elapsed.TotalSeconds);
        Emit(result.Changes);
    }

    private void Report(ScanResult result)
    {
        foreach (var issue in result.Issues)
        {
            AgentMetrics.ScanIssues.WithLabels(issue.Kind.ToString()).Inc();
            logger.LogWarning("{Kind}: {Path}: {Message}", issue.Kind, issue.Path, issue.Message);
        }
    }

    private void Emit(IEnumerable<FileChange> changes)
    {
        foreach (var change in changes)
        {
            AgentMetrics.Changes.WithLabels(change.Kind.ToName(), change.Source.ToName()).Inc();
            var (e, alert) = alerts.Judge(change);
            if (_rateLimiter.TryAcquire())
            {
                output.Write(e, alert);
            }
            else
            {
                AgentMetrics.SuppressedAlerts.Inc();
            }
        }
    }

    private void FlushRateLimitSummary()
    {
        if (_rateLimiter.TakeSuppressed() is > 0 and var n)
        {
            output.Notice($"{n} more changes were not printed: the policy caps output at {session.Policy.EventsPerSecond}/s (all are in the baseline)");
        }
    }

    private static string ReasonName(RescanReason reason) => reason switch
    {
        RescanReason.QueueOverflow => "overflow",
        RescanReason.WatchLimit => "watch-limit",
        RescanReason.NewDirectory => "new-directory",
        RescanReason.DirectoryMoved => "directory-moved",
        _ => "watch-error",
    };

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static TimeSpan Clamp(TimeSpan t) =>
        t < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : t > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : t;
}
