using V1 = Fim.Api.V1;
using System.Globalization;
using Fim.Contracts;
using Fim.Manager.Security;
using Fim.Manager.Store;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace Fim.Manager.Api;

/// <summary>The review trail: reviews of alerts (analyst), and the audit log's list and verification (fleet admin).</summary>
public sealed partial class FimManagerService
{
    private const int MaxAuditText = 1024;
    private static readonly TimeSpan DefaultAuditSpan = TimeSpan.FromDays(7);

    [Authorize(Policy = Roles.AnalystPolicy)]
    public override async Task<V1.ReviewAlertsResponse> ReviewAlerts(V1.ReviewAlertsRequest request, ServerCallContext context)
    {
        var state = ReviewArguments.State(request.State);
        var comment = ReviewArguments.Comment(request.Comment);
        var hasIds = request.AlertIds.Count > 0;
        if (hasIds && request.Filter is not null)
        {
            throw ApiArguments.Invalid("filter: give alert_ids or filter, not both");
        }
        if (!hasIds && request.Filter is null)
        {
            throw ApiArguments.Invalid("alert_ids: is empty: give the alerts to review (1..1000 ids), or a search in filter");
        }
        var caller = Caller(context);
        var cancellationToken = context.CancellationToken;
        // The reviewer is whoever authenticated, never a name from the request.
        var review = new StoredReview(state, caller.Subject, Micros.From(time.GetUtcNow()), comment);
        long changed;
        if (hasIds)
        {
            var ids = ReviewArguments.Ids(request.AlertIds);
            var rows = await reviews.GetAlertsAsync(ids, cancellationToken);
            var allowed = rows.Where(r => MayReview(caller, r)).Select(r => r.AlertId).ToHashSet(StringComparer.Ordinal);
            var missing = ids.Where(id => !allowed.Contains(id)).ToList();
            if (missing.Count > 0)
            {
                // Unknown and out-of-scope alike: an alert the caller may not read is not the caller's to know of.
                throw new RpcException(new Status(StatusCode.NotFound, $"alert_ids: no stored alert you may review with id {string.Join(", ", missing.Take(5))}"
                    + (missing.Count > 5 ? $" and {missing.Count - 5} more" : "") + "; nothing was changed"));
            }
            changed = await reviews.ReviewAsync(ids, review, cancellationToken);
        }
        else
        {
            var filter = request.Filter!;
            if (filter.Cursor.Length > 0)
            {
                throw ApiArguments.Invalid("filter.cursor: a review takes no cursor (it covers every match)");
            }
            if (filter.HasLimit)
            {
                throw ApiArguments.Invalid("filter.limit: a review takes no limit (it covers every match)");
            }
            var query = AlertFilters.From(filter, time.GetUtcNow(), "filter.");
            if (!ReviewArguments.Narrows(query))
            {
                throw ApiArguments.Invalid("filter: name at least one filter besides since and until (agent_id, path, min_level, rule_id, review_state, ...), "
                    + "so a review cannot cover every alert by accident");
            }
            changed = caller.HasUnscoped(Role.Analyst)
                ? await reviews.ReviewMatchingAsync(query, review, cancellationToken)
                : await ReviewVisibleAsync(caller, query, review, cancellationToken);
        }
        return new V1.ReviewAlertsResponse { Changed = (ulong)changed, Review = ReviewArguments.ToProto(review) };
    }

    [Authorize(Policy = Roles.AdminPolicy)]
    public override async Task<V1.ListAuditLogResponse> ListAuditLog(V1.ListAuditLogRequest request, ServerCallContext context)
    {
        RequireAuditor(Caller(context));
        var until = request.Until is null ? time.GetUtcNow() : ApiArguments.Time(request.Until, "until");
        var since = request.Since is null ? until - DefaultAuditSpan : ApiArguments.Time(request.Since, "since");
        if (since >= until)
        {
            throw ApiArguments.Invalid("since: must be before until");
        }
        long? before = request.Cursor.Length == 0 ? null
            : long.TryParse(request.Cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var c) && c > 0 ? c
            : throw ApiArguments.Invalid("cursor: is malformed (pass next_cursor of the previous page unchanged)");
        if (request.Actor.Length > MaxAuditText || request.Action.Length > MaxAuditText)
        {
            throw ApiArguments.Invalid($"{(request.Actor.Length > MaxAuditText ? "actor" : "action")}: must be at most {MaxAuditText} characters");
        }
        IReadOnlyList<string>? actions = null;
        if (request.Action.Length > 0)
        {
            actions = auditedMethods.Actions(request.Action);
            if (actions.Count == 0)
            {
                throw ApiArguments.Invalid($"action: no API method is called '{request.Action}' (give a method name such as ReviewAlerts, or service/method)");
            }
        }
        var page = await auditLog.ListAuditAsync(new AuditQuery
        {
            Since = since,
            Until = until,
            Actor = request.Actor.Length == 0 ? null : request.Actor,
            Actions = actions,
            BeforeSequence = before,
            Limit = ApiArguments.Limit(request.HasLimit, request.Limit),
        }, context.CancellationToken);
        var response = new V1.ListAuditLogResponse { NextCursor = page.Next?.ToString(CultureInfo.InvariantCulture) ?? "" };
        response.Entries.Add(page.Entries.Select(e => new V1.AuditEntry
        {
            Sequence = e.Sequence,
            Time = Timestamp.FromDateTimeOffset(Micros.ToTime(e.AtMicros)),
            Actor = e.Actor,
            AuthMethod = e.AuthMethod,
            Action = e.Action,
            Target = e.Target,
            Detail = e.Detail,
            Outcome = e.Outcome,
            Hash = e.Hash,
            PreviousHash = e.PreviousHash,
        }));
        return response;
    }

    [Authorize(Policy = Roles.AdminPolicy)]
    public override async Task<V1.VerifyAuditLogResponse> VerifyAuditLog(V1.VerifyAuditLogRequest request, ServerCallContext context)
    {
        RequireAuditor(Caller(context));
        var rows = await auditLog.ReadAuditChainAsync(context.CancellationToken);
        AuditCheckpoint? checkpoint;
        try
        {
            checkpoint = await auditCheckpoint.ReadAsync(context.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"checkpoint: KV {Subjects.AuditBucket} could not be read: {e.Message}"));
        }
        var v = AuditChain.Verify(rows, checkpoint);
        return new V1.VerifyAuditLogResponse
        {
            Ok = v.Ok,
            Rows = v.Rows,
            LastSequence = v.LastSequence,
            LastHash = v.LastHash,
            CheckpointSequence = v.CheckpointSequence,
            FirstBadSequence = v.FirstBadSequence,
            Problem = v.Problem,
            Detail = v.Detail,
        };
    }

    private static void RequireAuditor(CallerAccess caller)
    {
        if (!caller.HasUnscoped(Role.Admin))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "the audit log covers the whole fleet: it needs an admin role without an agent or namespace limit"));
        }
    }

    /// <summary>Reviewing needs the analyst role over the alert's agent and namespace, as reading needs the viewer role.</summary>
    private bool MayReview(CallerAccess caller, AlertRow row) =>
        Deserialize<Alert>(row.Json) is { } alert
        && caller.SeesRecord(alert.Labels ?? (agents.TryGet(alert.AgentId, out var a) ? a.Labels : null), alert.Policy, Role.Analyst);

    /// <summary>A scoped caller's bulk review: the matches read page by page, the ones it may review reviewed page by page.</summary>
    private async Task<long> ReviewVisibleAsync(CallerAccess caller, AlertQuery query, StoredReview review, CancellationToken cancellationToken)
    {
        var q = query with { Limit = ApiArguments.MaxLimit, After = null };
        long changed = 0;
        while (true)
        {
            var page = await store.SearchAsync(q, cancellationToken);
            var ids = page.Rows.Where(r => MayReview(caller, r)).Select(r => r.AlertId).ToList();
            changed += await reviews.ReviewAsync(ids, review, cancellationToken);
            if (page.Next is null)
            {
                return changed;
            }
            q = q with { After = page.Next };
        }
    }
}
