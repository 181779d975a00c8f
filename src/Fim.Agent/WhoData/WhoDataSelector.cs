using System.Globalization;
using Fim.Agent.Realtime;
using Fim.Contracts;
using Fim.Core.Policy;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Fim.Agent.WhoData;

/// <summary>The best who-data source an agent may use (a test or an operator can cap it below what the kernel allows).</summary>
public enum WhoDataLimit
{
    /// <summary>fanotify with the eBPF process table where possible, then fanotify with /proc, then inotify.</summary>
    Best,
    /// <summary>fanotify with /proc at most.</summary>
    NoProcessFeed,
    /// <summary>inotify: no who-data.</summary>
    InotifyOnly,
}

/// <summary>A policy's realtime watcher and the who-data source it runs on.</summary>
public sealed record WatcherChoice(IFileWatcher Watcher, WhoDataStatus Status);

/// <summary>
/// Chooses a policy's realtime source at start, best first, and says which and why: never a silent fallback. The
/// choice is logged (a warning when a better source was refused), exported as fim_agent_whodata_source{policy,source}
/// and put in the heartbeat by the caller.
/// </summary>
public static class WhoDataSelector
{
    private const int CapDacReadSearch = 2;
    private const int CapSysAdmin = 21;

    public static readonly Gauge SourceGauge = Metrics.CreateGauge(
        "fim_agent_whodata_source", "1 for the who-data source each policy runs on (fanotify-ebpf, fanotify-proc, inotify, off).", "policy", "source");

    private static readonly string[] AllSources = [WhoDataStatus.Fanotify, WhoDataStatus.FanotifyProc, WhoDataStatus.Inotify, WhoDataStatus.Off];

    public static WatcherChoice Create(CompiledPolicy policy, ILoggerFactory loggers, ILogger logger, WhoDataLimit limit = WhoDataLimit.Best)
    {
        var choice = Choose(policy, loggers, limit);
        foreach (var source in AllSources)
        {
            SourceGauge.WithLabels(policy.Name, source).Set(source == choice.Status.Source ? 1 : 0);
        }
        if (choice.Status.Reason is null)
        {
            logger.LogInformation("who-data for policy {Policy}: {Source}", policy.Name, choice.Status.Source);
        }
        else if (choice.Status.Source == WhoDataStatus.Off)
        {
            logger.LogInformation("who-data for policy {Policy}: {Source}, because {Reason}", policy.Name, choice.Status.Source, choice.Status.Reason);
        }
        else
        {
            logger.LogWarning("who-data for policy {Policy}: {Source}, not a better source, because {Reason}", policy.Name, choice.Status.Source, choice.Status.Reason);
        }
        return choice;
    }

    private static WatcherChoice Choose(CompiledPolicy policy, ILoggerFactory loggers, WhoDataLimit limit)
    {
        if (!policy.WhoData)
        {
            return Inotify(loggers, WhoDataStatus.Off, "the policy turns who-data off (whoData.enabled: false)");
        }
        if (limit == WhoDataLimit.InotifyOnly)
        {
            return Inotify(loggers, WhoDataStatus.Inotify, "the agent is limited to inotify (--who-data inotify)");
        }
        var missing = MissingCapability();
        if (missing is not null)
        {
            return Inotify(loggers, WhoDataStatus.Inotify, missing);
        }
        var table = new ProcessTable();
        BpfProcessFeed? feed = null;
        string? feedProblem = null;
        if (limit == WhoDataLimit.NoProcessFeed)
        {
            feedProblem = "the agent is limited to fanotify with /proc (--who-data fanotify-proc); writers that exit before their event is read are reported unknown";
        }
        else
        {
            try
            {
                feed = BpfProcessFeed.Start(table);
            }
            catch (WhoDataUnavailableException e)
            {
                feedProblem = $"the eBPF process table is unavailable: {e.Message}; writers that exit before their event is read are reported unknown";
            }
        }
        try
        {
            var resolver = new ActorResolver(table, feed is null ? null : feed.Drain, policy.WhoDataCommandLine, cgroups: feed is null ? null : CgroupPaths.Shared);
            var watcher = new FanotifyWatcher(loggers.CreateLogger<FanotifyWatcher>(), resolver, feed, table);
            try
            {
                foreach (var rule in policy.Rules.Where(r => r.Realtime))
                {
                    watcher.Probe(rule.Root);
                }
            }
            catch (IOException e)
            {
                // The watcher owns the feed: disposing it unloads the programs. It never ran, so this completes at once.
#pragma warning disable VSTHRD002
                watcher.DisposeAsync().AsTask().GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
                return Inotify(loggers, WhoDataStatus.Inotify, e.Message);
            }
            return new WatcherChoice(watcher, feed is null
                ? new WhoDataStatus(WhoDataStatus.FanotifyProc, feedProblem)
                : new WhoDataStatus(WhoDataStatus.Fanotify, null));
        }
        catch (WhoDataUnavailableException e)
        {
            feed?.Dispose();
            return Inotify(loggers, WhoDataStatus.Inotify, e.Message);
        }
    }

    private static WatcherChoice Inotify(ILoggerFactory loggers, string source, string reason) =>
        new(new InotifyWatcher(new InotifyWatcherOptions(), loggers.CreateLogger<InotifyWatcher>()), new WhoDataStatus(source, reason));

    /// <summary>Why fanotify file system marks cannot work here, from the effective capabilities; null when they can.</summary>
    public static string? MissingCapability()
    {
        string? capEff = null;
        try
        {
            capEff = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        }
        catch (IOException)
        {
        }
        if (capEff is null || !ulong.TryParse(capEff[7..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var caps))
        {
            return "the agent's capabilities could not be read from /proc/self/status";
        }
        if ((caps & (1UL << CapSysAdmin)) == 0)
        {
            return "fanotify file system marks need CAP_SYS_ADMIN, which the agent does not have";
        }
        if ((caps & (1UL << CapDacReadSearch)) == 0)
        {
            return "fanotify's file handles need CAP_DAC_READ_SEARCH (open_by_handle_at), which the agent does not have";
        }
        return null;
    }
}
