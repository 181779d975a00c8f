using System.CommandLine;
using System.Globalization;
using Fim.Api.V1;
using Google.Protobuf.WellKnownTypes;

namespace Fim.Ctl;

/// <summary>fimctl scans and fimctl report compliance: the scan records agents reported, and the compliance report.</summary>
public sealed partial class Cli
{
    private Command ScansCommand()
    {
        var agent = new Option<string?>("--agent", "-a") { Description = "Only this agent." };
        var policy = new Option<string?>("--policy", "-p") { Description = "Only this policy (namespace/name)." };
        var since = new Option<string?>("--since") { Description = "From this time or age (2h, 7d, 2026-01-01T00:00:00Z); default 7 days before --until." };
        var until = new Option<string?>("--until") { Description = "Up to this time or age; default now." };
        var limit = new Option<int?>("--limit", "-n") { Description = "At most this many scans (1-1000, default 100)." };
        var cursor = new Option<string?>("--cursor") { Description = "Continue after the previous page (the cursor it printed)." };
        var command = new Command("scans", "List the scans agents reported (the evidence that comparisons ran), newest first.")
        {
            agent, policy, since, until, limit, cursor,
        };
        command.SetAction(async (parse, ct) =>
        {
            var now = DateTimeOffset.UtcNow;
            var request = new ListScansRequest
            {
                AgentId = parse.GetValue(agent) ?? "",
                Policy = parse.GetValue(policy) ?? "",
                Cursor = parse.GetValue(cursor) ?? "",
            };
            if (parse.GetValue(since) is { } s)
            {
                request.Since = Timestamp.FromDateTimeOffset(ParseTime(s, now, "--since"));
            }
            if (parse.GetValue(until) is { } u)
            {
                request.Until = Timestamp.FromDateTimeOffset(ParseTime(u, now, "--until"));
            }
            if (parse.GetValue(limit) is { } n)
            {
                request.Limit = n;
            }
            using var channel = Channel(parse);
            var response = await new FimScans.FimScansClient(channel).ListScansAsync(request, cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                foreach (var scan in response.Scans)
                {
                    await stdout.WriteLineAsync(Compact.Format(scan));
                }
            }
            else
            {
                await stdout.WriteLineAsync($"{"FINISHED",-20} {"AGENT",-24} {"POLICY",-24} {"TRIGGER",-12} {"RESULT",-8} {"FILES",8} {"ADDED",6} {"CHANGED",7} {"REMOVED",7} {"ERRORS",6} {"SECONDS",8}");
                foreach (var x in response.Scans)
                {
                    await stdout.WriteLineAsync($"{Time(x.FinishedAt),-20} {E(x.AgentId),-24} {E(x.Policy),-24} {E(x.Trigger),-12} {E(x.Result),-8} {x.Files,8} {x.Added,6} {x.Changed,7} {x.Removed,7} {x.Errors,6} {(x.DurationMs / 1000).ToString("F2", CultureInfo.InvariantCulture),8}");
                }
            }
            if (response.NextCursor.Length > 0)
            {
                await stderr.WriteLineAsync($"(more scans match: next page with --cursor {response.NextCursor})");
            }
            return Ok;
        });
        return command;
    }

    private Command ReportCommand()
    {
        var from = new Option<string>("--from") { Description = "Start of the period: a time (2026-01-01T00:00:00Z) or an age (90d). Required.", Required = true };
        var to = new Option<string?>("--to") { Description = "End of the period (default now); at most 400 days after --from." };
        var selector = new Option<string?>("--selector", "-l") { Description = "Agents in scope by label selector: env=prod,tier in (web,api). Default: every agent you may see." };
        var format = new Option<string>("--format") { Description = "json or csv.", DefaultValueFactory = _ => "json" };
        var maxGap = new Option<string?>("--max-gap") { Description = "Expected longest gap between scans where an agent did not report its schedule: 7d (default), 36h." };
        var minLevel = new Option<int?>("--min-level") { Description = "List unreviewed alerts at or above this level (default 10)." };
        var maxAlerts = new Option<int?>("--max-alerts") { Description = "At most this many unreviewed alerts listed per agent (default 20)." };
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to this file (default stdout)." };
        var compliance = new Command("compliance", "Per agent in scope: the scans that ran in the period (a missed one shows), changes by level, review states and unreviewed high-level alerts.")
        {
            from, to, selector, format, maxGap, minLevel, maxAlerts, output,
        };
        compliance.SetAction(async (parse, ct) =>
        {
            var now = DateTimeOffset.UtcNow;
            var request = new GetComplianceReportRequest
            {
                From = Timestamp.FromDateTimeOffset(ParseTime(parse.GetValue(from)!, now, "--from")),
                Selector = parse.GetValue(selector) ?? "",
                Format = parse.GetValue(format) ?? "json",
                MaxGap = parse.GetValue(maxGap) ?? "",
            };
            if (parse.GetValue(to) is { } t)
            {
                request.To = Timestamp.FromDateTimeOffset(ParseTime(t, now, "--to"));
            }
            if (parse.GetValue(minLevel) is { } level)
            {
                request.MinLevel = level;
            }
            if (parse.GetValue(maxAlerts) is { } cap)
            {
                request.MaxAlerts = cap;
            }
            using var channel = Channel(parse);
            var body = await new FimScans.FimScansClient(channel).GetComplianceReportAsync(request, cancellationToken: ct);
            if (parse.GetValue(output) is { } file)
            {
                await File.WriteAllBytesAsync(file, body.Data.ToByteArray(), ct);
                await stderr.WriteLineAsync($"report written to {E(file)} ({body.Data.Length} bytes, {E(body.ContentType)})");
            }
            else
            {
                var text = body.Data.ToStringUtf8();
                // JSON escapes control characters itself; CSV keeps them, so each line is escaped for the terminal
                // (-o writes the exact bytes).
                await stdout.WriteAsync(request.Format.Equals("csv", StringComparison.OrdinalIgnoreCase)
                    ? string.Concat(text.Split('\n').Select(line => E(line.TrimEnd('\r')) + "\n")).TrimEnd('\n') + "\n"
                    : text + "\n");
            }
            return Ok;
        });
        return new Command("report", "Reports built from the alert store and scan records.") { compliance };
    }
}
