using Fim.Agent.Realtime;
using Fim.Agent.Telemetry;
using Fim.Core.Baseline;
using Fim.Core.Content;
using Fim.Core.Model;
using Fim.Core.Scanning;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Fim.Agent.Monitoring;

/// <summary>
/// The agent's monitoring loop for one policy: watch first (so nothing slips between scan and watch), scan to report
/// what changed while the agent was stopped, then hand realtime changes to the sink, rescanning on schedule, on
/// request, and wherever the kernel could not give a complete picture (queue overflow, watch limit, new directories).
/// One thread owns the baseline; the sink commits each batch's baseline updates together with its report.
/// When the sink refuses a batch (full outbox) the baseline is left as it was and a full rescan runs once it accepts
/// again, so the changes are found then.
/// </summary>
public sealed class WatchLoop(
    MonitorSession session,
    IChangeSink sink,
    IFileWatcher watcher,
    ILogger logger,
    TimeProvider time)
{
    /// <summary>Subtrees the watch limit left unwatched are polled this often (and at every scheduled rescan).</summary>
    public TimeSpan UnwatchedPollInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a refusing sink is asked again.</summary>
    public TimeSpan DeferredRetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Roots the baseline has never seen (a policy revision added them) are recorded without reporting their files
    /// as added, and records no rule covers any more are dropped. For the connected agent, whose policies change.
    /// </summary>
    public bool AlignBaselineWithPolicy { get; init; }

    private readonly HashSet<byte[]> _unwatched = new(PathComparer.Instance);
    private readonly System.Threading.Channels.Channel<string> _scanRequests =
        System.Threading.Channels.Channel.CreateUnbounded<string>(new() { SingleReader = true });
    private Scanner _realtimeScanner = null!;
    /// <summary>Rescans where the kernel lost events (overflow, watch limit): what they find was found by a scan, not seen happen.</summary>
    private Scanner _rescanScanner = null!;
    private bool _deferred;
    private FlapDetector? _flapping;
    private readonly List<FileChange> _heldSummaries = [];

    /// <summary>Raised after the initial scan, when realtime detection is live (tests and the CLI wait on it).</summary>
    public event Action? Ready;

    /// <summary>Raised after every full scan.</summary>
    public event Action<ScanReport>? ScanFinished;

    /// <summary>Raised on the loop's thread after every full scan, committed or not, and when one fails as a whole (then rethrown).</summary>
    public event Action<ScanOutcome>? ScanCompleted;

    /// <summary>Asks for a full rescan as soon as the loop is free (thread-safe).</summary>
    public void RequestScan(string reason) => _scanRequests.Writer.TryWrite(reason);

    public async Task RunAsync(CancellationToken ct)
    {
        _realtimeScanner = session.CreateScanner(verifyFull: false, recordOnly: false, DetectionSource.Realtime);
        _rescanScanner = session.CreateScanner(verifyFull: false, recordOnly: false, DetectionSource.Scan);
        var probe = session.CreateScanner(false, false);
        foreach (var rule in session.Policy.Rules.Where(r => r.Realtime))
        {
            watcher.AddRoot(rule.Root, probe.ShouldWatch);
        }
        AgentMetrics.Watches.Set(watcher.WatchCount);
        var watching = watcher.RunAsync(ct); // on its own thread

        _flapping = session.Policy.Flapping is { } flapping ? new FlapDetector(flapping, time) : null;
        var firstRun = !session.HasBaseline;
        if (!firstRun && AlignBaselineWithPolicy)
        {
            AlignWithPolicy(ct);
        }
        if (session.Content.IsActive && session.Content.Prune() is > 0 and var pruned)
        {
            logger.LogInformation("{Count} content copies or checkpoints no rule keeps any more were removed", pruned);
        }
        RunScan("startup", verifyFull: false, recordOnly: firstRun, ct);
        AlertFactory.WarmUp();
        logger.LogInformation("realtime detection on {Roots} with {Watches} watches; rescan every {Interval}",
            string.Join(", ", session.Policy.Rules.Select(r => r.RootDisplay)), watcher.WatchCount, session.Policy.RescanInterval);
        Ready?.Invoke();
        // The startup scan's garbage (a record built per entry) would otherwise stay resident while the agent idles.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

        var nextRescan = time.GetUtcNow() + session.Policy.RescanInterval;
        var nextFullVerify = session.Policy.FullVerifyInterval is { } f ? time.GetUtcNow() + f : DateTimeOffset.MaxValue;
        var nextPoll = time.GetUtcNow() + UnwatchedPollInterval;
        var nextDeferredCheck = time.GetUtcNow();
        var reader = watcher.Notifications;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var now = time.GetUtcNow();
                if (_scanRequests.Reader.TryRead(out var requested))
                {
                    while (_scanRequests.Reader.TryRead(out _))
                    {
                    }
                    RunScan(requested, false, false, ct);
                    continue;
                }
                if (_deferred && now >= nextDeferredCheck)
                {
                    nextDeferredCheck = now + DeferredRetryInterval;
                    if (sink.CanAccept)
                    {
                        _deferred = false;
                        RunScan("outbox-recovered", false, false, ct);
                        continue;
                    }
                }
                var flapDue = _heldSummaries.Count > 0 && !_deferred ? now : _flapping?.NextDue ?? DateTimeOffset.MaxValue;
                if (now >= flapDue)
                {
                    var summaries = _heldSummaries.Concat(_flapping!.TakeSummaries()).ToList();
                    _heldSummaries.Clear();
                    if (!Hand(new ChangeBatch([], summaries, Snapshot: false), summaries: true))
                    {
                        _heldSummaries.AddRange(summaries); // a summary stands for changes no other event reports
                    }
                    continue;
                }
                var due = Min(Min(nextRescan, _unwatched.Count > 0 ? nextPoll : DateTimeOffset.MaxValue), flapDue);
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
                            RescanSubtree(root, "watch-limit-poll", DetectionSource.Scan, ct);
                        }
                    }
                    nextPoll = now + UnwatchedPollInterval;
                    continue;
                }
                var wakeAt = _deferred ? Min(due, nextDeferredCheck) : due;
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                wait.CancelAfter(Clamp(wakeAt - now));
                bool stopped;
                try
                {
                    var notification = reader.WaitToReadAsync(wait.Token).AsTask();
                    var request = _scanRequests.Reader.WaitToReadAsync(wait.Token).AsTask();
                    var first = await Task.WhenAny(notification, request);
                    if (first.IsCanceled)
                    {
                        continue; // a timer is due, or we are stopping
                    }
                    stopped = first == notification && !await notification;
                }
                finally
                {
                    // Ends the other wait, so each channel never has more than one waiting reader.
                    await wait.CancelAsync();
                }
                if (stopped)
                {
                    break; // the watcher stopped
                }
                ProcessBatch(reader, ct);
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
        Dictionary<byte[], Fim.Contracts.Actor>? actors = null;
        HashSet<byte[]>? created = null;
        var subtrees = new List<(byte[] Root, string Reason, DetectionSource Source)>();
        while (reader.TryRead(out var n))
        {
            switch (n)
            {
                case SubtreeRescan s:
                    subtrees.Add((s.Root, ReasonName(s.Reason), SourceOf(s.Reason)));
                    CountRescanReason(s);
                    break;
                case PathChanged p when p.IsDirectory && (p.Hint & (ChangeHint.Created | ChangeHint.Deleted | ChangeHint.MovedIn | ChangeHint.MovedOut)) != 0:
                    // A directory appearing or leaving carries its whole subtree with it.
                    subtrees.Add((p.Path, "directory-" + p.Hint.ToString().ToLowerInvariant(), DetectionSource.Realtime));
                    AddParent(p.Path, paths, seen, p.Actor, ref actors);
                    break;
                case PathChanged p:
                    if (p.Actor is { } actor)
                    {
                        // The last writer in the batch: its change is the state the path is observed in.
                        (actors ??= new(PathComparer.Instance))[p.Path] = actor;
                    }
                    if (seen.Add(p.Path))
                    {
                        paths.Add(p.Path);
                    }
                    if ((p.Hint & (ChangeHint.Created | ChangeHint.MovedIn)) != 0)
                    {
                        (created ??= new(PathComparer.Instance)).Add(p.Path);
                    }
                    if ((p.Hint & (ChangeHint.Created | ChangeHint.Deleted | ChangeHint.MovedIn | ChangeHint.MovedOut)) != 0)
                    {
                        AddParent(p.Path, paths, seen, p.Actor, ref actors);
                    }
                    break;
            }
        }
        foreach (var (root, reason, source) in subtrees)
        {
            RescanSubtree(root, reason, source, ct);
        }
        var pending = new List<BaselineUpdate>();
        var changes = new List<FileChange>();
        foreach (var path in paths)
        {
            var actor = actors is not null && actors.TryGetValue(path, out var a) ? a : null;
            if (session.Observe(_realtimeScanner, path, pending) is { } change)
            {
                changes.Add(actor is null ? change : change with { Actor = actor });
            }
            else if (created is not null && created.Contains(path) && session.Transient(_realtimeScanner, path) is { } transient)
            {
                // Created and deleted before it could be read: reported as both, without a state, never dropped.
                changes.AddRange(actor is null ? transient : transient.Select(c => c with { Actor = actor }));
            }
        }
        Hand(new ChangeBatch(pending, changes, Snapshot: false));
    }

    /// <summary>Gives a batch to the sink; a refused batch leaves the baseline as it was and schedules a rescan.</summary>
    private bool Hand(ChangeBatch batch, bool verifyAll = false, bool summaries = false)
    {
        if (batch.Updates.Count == 0 && batch.Changes.Count == 0 && !batch.Snapshot)
        {
            return true;
        }
        // Summaries of flapping files were refined when their changes were seen; everything else gets its diffs and
        // append-only verdicts now, and then passes the flapping filter.
        var refined = summaries ? null : session.Content.Refine(batch.Changes, batch.Updates, verifyAll);
        if (refined is not null)
        {
            var changes = _flapping is null ? refined.Changes : _flapping.Filter(refined.Changes);
            batch = batch with { Changes = changes };
        }
        if (!_deferred && sink.Commit(session, batch))
        {
            refined?.Complete();
            if (session.Content.TakeNotice() is { } notice)
            {
                logger.LogWarning("{Notice}", notice);
            }
            foreach (var change in batch.Changes)
            {
                AgentMetrics.Changes.WithLabels(change.Kind.ToName(), change.Source.ToName()).Inc();
            }
            return true;
        }
        refined?.Discard();
        if (!_deferred)
        {
            logger.LogWarning("the outbox is full: {Changes} changes were not recorded; the baseline stays as it was and {Policy} is rescanned once the outbox drains",
                batch.Changes.Count, session.Policy.Name);
        }
        _deferred = true;
        return false;
    }

    /// <summary>Records new roots quietly and drops records that no rule covers any more.</summary>
    private void AlignWithPolicy(CancellationToken ct)
    {
        var stale = session.Records().Where(r => session.Policy.RuleFor(r.Path) is null).Select(r => BaselineUpdate.Delete(r.Path)).ToList();
        if (stale.Count > 0)
        {
            session.Commit(stale, [], snapshot: true);
            logger.LogInformation("{Count} baseline records outside the policy's paths were dropped", stale.Count);
        }
        var recorder = session.CreateScanner(verifyFull: false, recordOnly: true);
        foreach (var rule in session.Policy.Rules.Where(r => !session.HasRecord(r.Root) && Path.Exists(r.RootDisplay)))
        {
            var result = session.Scan(recorder, ct, subtree: rule.Root);
            session.Commit(result.Updates, [], snapshot: true);
            logger.LogInformation("new path {Root} recorded: {Entries} entries", rule.RootDisplay, result.Stats.Entries);
        }
    }

    /// <summary>The directory whose entries changed; whoever added or removed the entry changed it.</summary>
    private void AddParent(byte[] path, List<byte[]> paths, HashSet<byte[]> seen, Fim.Contracts.Actor? actor, ref Dictionary<byte[], Fim.Contracts.Actor>? actors)
    {
        var parent = PathBytes.Parent(path).ToArray();
        if (actor is not null)
        {
            (actors ??= new(PathComparer.Instance))[parent] = actor;
        }
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

    private void RescanSubtree(byte[] root, string reason, DetectionSource source, CancellationToken ct)
    {
        AgentMetrics.Rescans.WithLabels(reason).Inc();
        using var timer = AgentMetrics.ScanDuration.WithLabels("subtree").NewTimer();
        var result = session.Scan(source == DetectionSource.Scan ? _rescanScanner : _realtimeScanner, ct, subtree: root);
        Report(result);
        Hand(new ChangeBatch(result.Updates, result.Changes, Snapshot: false));
    }

    private void RunScan(string reason, bool verifyFull, bool recordOnly, CancellationToken ct)
    {
        AgentMetrics.Rescans.WithLabels(reason).Inc();
        using var timer = AgentMetrics.ScanDuration.WithLabels(verifyFull ? "full" : "incremental").NewTimer();
        var scanner = session.CreateScanner(verifyFull, recordOnly);
        var startedAt = time.GetUtcNow();
        ScanResult result;
        try
        {
            result = ScanRunner.ScanChecked(session, scanner, ct);
        }
        catch (Exception e) when (e is Cli.AgentException or IOException or UnauthorizedAccessException)
        {
            ScanCompleted?.Invoke(ScanOutcome.Failed(session.Policy.Name, reason, startedAt, time.GetUtcNow(), e.Message));
            throw;
        }
        Report(result);
        var committed = Hand(new ChangeBatch(result.Updates, result.Changes, Snapshot: true), verifyFull);
        // No scan runs now (they run on this thread): a rescan's many changes are committed objects that can go back
        // to the compact form (a first baseline's records never left it).
        session.FreezeRecords();
        AgentMetrics.BaselineEntries.Set(session.BaselineCount);
        var finishedAt = time.GetUtcNow();
        ScanFinished?.Invoke(new ScanReport(session.Policy.Name, reason, finishedAt, result.Stats.Entries, result.Changes.Count, result.Stats.Elapsed, committed));
        ScanCompleted?.Invoke(ScanOutcome.From(session.Policy.Name, reason, startedAt, finishedAt, result, committed));
        if (recordOnly)
        {
            sink.Notice($"baseline recorded: {result.Stats.Entries:N0} entries in {result.Stats.Elapsed.TotalSeconds:N2} s; watching for changes");
            return;
        }
        logger.LogInformation("{Reason} scan: {Changes} changes in {Entries} entries, {Seconds:F2} s",
            reason, result.Changes.Count, result.Stats.Entries, result.Stats.Elapsed.TotalSeconds);
    }

    private void Report(ScanResult result)
    {
        foreach (var issue in result.Issues)
        {
            AgentMetrics.ScanIssues.WithLabels(issue.Kind.ToString()).Inc();
            logger.LogWarning("{Kind}: {Path}: {Message}", issue.Kind, issue.Path, issue.Message);
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

    /// <summary>A new or moved directory was seen happen (realtime); overflow, watch limit and watch errors lost events, so a scan finds them.</summary>
    private static DetectionSource SourceOf(RescanReason reason) =>
        reason is RescanReason.NewDirectory or RescanReason.DirectoryMoved ? DetectionSource.Realtime : DetectionSource.Scan;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static TimeSpan Clamp(TimeSpan t) =>
        t < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : t > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : t;
}
