using System.CommandLine;
using Fim.Agent.Monitoring;
using Fim.Agent.Output;
using Fim.Agent.Platform;
using Fim.Contracts;
using Fim.Core.Events;
using Fim.Core.Model;
using Fim.Core.Rules;
using Fim.Core.Scanning;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Cli;

/// <summary>`fim-agent scan`: records a baseline on the first run; later runs report every change and update it.</summary>
public static class ScanCommand
{
    public static Command Create(CommonOptions common)
    {
        var command = new Command("scan", "Compare the paths with the baseline, print every change, then update the baseline (the first run records it).");
        common.AddTo(command);
        command.SetAction((parse, ct) => Task.FromResult(Run(common, parse, ct)));
        return command;
    }

    private static int Run(CommonOptions common, ParseResult parse, CancellationToken ct)
    {
        using var loggers = AgentLogging.CreateFactory();
        var log = loggers.CreateLogger("fim-agent");
        var state = common.LoadState(parse);
        var policy = common.LoadPolicy(parse, state, log);
        var output = common.CreateOutput(parse, log);
        if (ProcessPriority.Apply(policy.Nice, policy.IoClass) is { } problem)
        {
            log.LogWarning("could not lower priority: {Problem}", problem);
        }
        if (Interruption.Current is { } interruption)
        {
            // The walk and the hashing stop within one read of a signal; this only guards a read stuck in the kernel.
            interruption.ForceExitAfter = TimeSpan.FromSeconds(5);
        }
        using var session = MonitorSession.Open(policy, state, parse.GetValue(common.Rebaseline));
        var firstRun = !session.HasBaseline;
        var scanner = session.CreateScanner(parse.GetValue(common.VerifyFull), recordOnly: firstRun);
        ScanResult result;
        try
        {
            using (new ScanProgress(() => scanner.Stats, enabled: !AgentLogging.Json))
            {
                result = ScanRunner.ScanChecked(session, scanner, ct);
            }
            ct.ThrowIfCancellationRequested();
        }
        catch (OperationCanceledException e) when (Interruption.Current is { Interrupted: true } signal)
        {
            throw new AgentException(signal.ExitCode,
                $"scan interrupted by {signal.SignalName} after {scanner.Stats.Entries:N0} entries: " +
                (firstRun ? "no baseline was recorded" : "no change was reported and the baseline was not updated") +
                "; run the scan again to get a result", e);
        }
        ReportIssues(result, log);
        if (firstRun)
        {
            var replaced = session.PendingReset;
            var recorded = session.Content.Refine([], result.Updates);
            session.Commit(result.Updates, [], snapshot: true);
            recorded.Complete();
            ReportAnchor(session, log);
            if (replaced?.Previous is { } previous)
            {
                output.Notice($"the previous baseline (generation {previous.Generation}, saved {previous.SavedAt:u}) was discarded on request; changes made before now are not reported");
            }
            output.Notice($"baseline recorded: {result.Stats.Entries:N0} entries ({result.Stats.FilesHashed:N0} files hashed, {result.Stats.BytesHashed / (1024.0 * 1024):N1} MiB) in {result.Stats.Elapsed.TotalSeconds:N2} s");
            return UnreadableExitCode(result, log) ?? ExitCodes.NoChanges;
        }
        var alerts = new AlertFactory(EventOrigin.Local(), RuleSet.Default, AlertContext.For(policy),
            Packages.PackageAwareness.ForHost(null, new Packages.PackageOptions(), TimeProvider.System, log, Packages.PackageScope.Of(policy)));
        var refined = session.Content.Refine(result.Changes, result.Updates, verifyAll: parse.GetValue(common.VerifyFull));
        foreach (var change in refined.Changes)
        {
            var (e, alert) = alerts.Judge(change);
            output.Write(e, alert);
        }
        // Printed before the baseline moves on: if saving fails, the next run reports these changes again.
        session.Commit(result.Updates, [], snapshot: true);
        refined.Complete();
        if (session.Content.TakeNotice() is { } notice)
        {
            output.Notice(notice);
        }
        ReportAnchor(session, log);
        output.Notice($"{refined.Changes.Count:N0} changes in {result.Stats.Entries:N0} entries ({result.Stats.FilesHashed:N0} hashed, {result.Stats.HashesReused:N0} unchanged) in {result.Stats.Elapsed.TotalSeconds:N2} s");
        return UnreadableExitCode(result, log) ?? ExitCodeFor(refined.Changes);
    }

    /// <summary>
    /// Content that could not be read (a file, a directory below a root) is an error, not "no change": the changes
    /// found elsewhere are printed and recorded, and the exit code says the check was incomplete.
    /// </summary>
    public static int? UnreadableExitCode(ScanResult result, ILogger log)
    {
        var unreadable = result.Issues.Count(i => i.Kind is ScanIssueKind.PermissionDenied or ScanIssueKind.Unreadable or ScanIssueKind.IoError);
        if (unreadable == 0)
        {
            return null;
        }
        log.LogError("{Count} paths could not be read (see the warnings above): their content is not verified", unreadable);
        return ExitCodes.PathUnreadable;
    }

    public static int ExitCodeFor(IEnumerable<FileChange> changes)
    {
        var code = 0;
        foreach (var c in changes)
        {
            code |= c.Kind switch
            {
                ChangeKind.Added => ExitCodes.Added,
                ChangeKind.Deleted => ExitCodes.Deleted,
                _ => ExitCodes.Changed,
            };
        }
        return code;
    }

    private static void ReportAnchor(MonitorSession session, ILogger log)
    {
        if (session.TakeAnchorWarning() is { } warning)
        {
            log.LogWarning("{Warning:l}", warning);
        }
    }

    public static void ReportIssues(ScanResult result, ILogger log)
    {
        foreach (var issue in result.Issues.Where(i => i.Kind != ScanIssueKind.MissingRoot))
        {
            log.LogWarning("{Path:l}: {Problem:l}", issue.Path, issue.Message);
        }
    }
}
