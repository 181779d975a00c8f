using System.CommandLine;
using Fim.Api.V1;
using Google.Protobuf.WellKnownTypes;

namespace Fim.Ctl;

/// <summary>fimctl alerts review, and fimctl audit (list, verify): the review trail.</summary>
public sealed partial class Cli
{
    /// <summary>Exit code of `audit verify` when the chain is broken.</summary>
    public const int AuditBroken = 7;

    private Command ReviewCommand()
    {
        var filters = new AlertFilterOptions();
        var state = new Option<string>("--state") { Description = "new (back to unreviewed), expected, incident or false_positive.", Required = true };
        var comment = new Option<string?>("--comment") { Description = "Why (at most 2000 characters)." };
        var ids = new Option<string[]>("--id") { Description = "An alert id; repeatable. Without --id: every alert the filters match (at least one filter besides the time range)." };
        var command = new Command("review", "Set the review state of alerts, by id or by search; you are the reviewer.") { state, comment, ids };
        filters.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var request = new ReviewAlertsRequest { State = parse.GetValue(state)!, Comment = parse.GetValue(comment) ?? "" };
            var given = parse.GetValue(ids) ?? [];
            if (given.Length > 0)
            {
                if (filters.AnyGiven(parse))
                {
                    throw new UsageException("--id: give alert ids or search filters, not both");
                }
                request.AlertIds.Add(given);
            }
            else
            {
                request.Filter = filters.Request(parse, DateTimeOffset.UtcNow);
            }
            using var channel = Channel(parse);
            var response = await new FimManager.FimManagerClient(channel).ReviewAlertsAsync(request, cancellationToken: ct);
            await stdout.WriteLineAsync(parse.GetValue(_json) ? Json.Format(response)
                : $"{response.Changed} alert(s) set to {E(response.Review.State)} by {E(response.Review.Reviewer)} at {Time(response.Review.ReviewedAt)}");
            return Ok;
        });
        return command;
    }

    private Command AuditCommand()
    {
        var actor = new Option<string?>("--actor") { Description = "Only calls by this caller (its subject, token:<id> for API tokens)." };
        var action = new Option<string?>("--action") { Description = "Only this method (ReviewAlerts, CreateApiToken, ... or service/method)." };
        var since = new Option<string?>("--since") { Description = "Start: a time or an age (30m, 2h, 7d). Default: 7 days before --until." };
        var until = new Option<string?>("--until") { Description = "End: a time or an age. Default: now." };
        var limit = new Option<int?>("--limit", "-n") { Description = "At most this many rows (1-1000, default 100)." };
        var cursor = new Option<string?>("--cursor") { Description = "Continue after the previous page (the cursor it printed)." };
        var list = new Command("list", "The audit log of mutating API calls, newest first (fleet admin).") { actor, action, since, until, limit, cursor };
        list.SetAction(async (parse, ct) =>
        {
            var now = DateTimeOffset.UtcNow;
            var request = new ListAuditLogRequest { Actor = parse.GetValue(actor) ?? "", Action = parse.GetValue(action) ?? "", Cursor = parse.GetValue(cursor) ?? "" };
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
            var response = await new FimManager.FimManagerClient(channel).ListAuditLogAsync(request, cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                foreach (var e in response.Entries)
                {
                    await stdout.WriteLineAsync(Json.Format(e));
                }
            }
            else
            {
                await stdout.WriteLineAsync($"{"SEQ",6} {"TIME",-20} {"ACTOR",-28} {"ACTION",-44} {"OUTCOME",-16} TARGET");
                foreach (var e in response.Entries)
                {
                    await stdout.WriteLineAsync($"{e.Sequence,6} {Time(e.Time),-20} {E(e.Actor),-28} {E(e.Action),-44} {E(e.Outcome),-16} {E(e.Target)}");
                }
            }
            if (response.NextCursor.Length > 0)
            {
                await stderr.WriteLineAsync($"(more rows: next page with --cursor {response.NextCursor})");
            }
            return Ok;
        });
        var verify = new Command("verify", $"Check the audit log's hash chain and checkpoint; exit {AuditBroken} naming the first bad sequence when broken.");
        verify.SetAction(async (parse, ct) =>
        {
            using var channel = Channel(parse);
            var v = await new FimManager.FimManagerClient(channel).VerifyAuditLogAsync(new VerifyAuditLogRequest(), cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                await stdout.WriteLineAsync(Json.Format(v));
            }
            else if (v.Ok)
            {
                await stdout.WriteLineAsync($"ok: {v.Rows} rows, last sequence {v.LastSequence} ({v.LastHash}), checkpoint at {v.CheckpointSequence}");
            }
            else
            {
                await stdout.WriteLineAsync($"BROKEN at sequence {v.FirstBadSequence}: {E(v.Problem)}: {E(v.Detail)}");
            }
            return v.Ok ? Ok : AuditBroken;
        });
        return new Command("audit", "The audit log: every mutating API call, hash-chained.") { list, verify };
    }
}
