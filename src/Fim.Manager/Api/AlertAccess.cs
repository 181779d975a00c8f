using V1 = Fim.Api.V1;
using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Agents;
using Fim.Manager.Options;
using Fim.Manager.Security;
using Fim.Manager.Store;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Api;

/// <summary>
/// The alert reads and reviews of one caller, limited to what its grants cover: the API and the console both go
/// through here, so a scoped caller sees, and may review, the same alerts whichever way it asks.
/// </summary>
public sealed class AlertAccess(IAlertStore store, IAlertReviews reviews, AgentDirectory agents, IOptions<ApiOptions> options, TimeProvider time)
{
    private readonly ApiOptions _options = options.Value;

    public bool Sees(CallerAccess caller, Alert alert, Role role = Role.Viewer) =>
        caller.SeesRecord(alert.Labels ?? (agents.TryGet(alert.AgentId, out var a) ? a.Labels : null), alert.Policy, role);

    /// <summary>
    /// One page of the alerts the caller may see. Unscoped callers get the store's page as it is; for callers limited by
    /// labels or namespaces pages are read and filtered until the page is full or the scan budget (MaxScan) is spent,
    /// and the cursor continues after the last row read.
    /// </summary>
    public async Task<(List<(Alert Alert, AlertRow Row)> Rows, AlertCursor? Next, long Scanned)> PageAsync(CallerAccess caller, AlertQuery query,
        CancellationToken cancellationToken)
    {
        var unscoped = caller.HasUnscoped(Role.Viewer);
        var visible = new List<(Alert, AlertRow)>(query.Limit);
        long scanned = 0;
        while (true)
        {
            var page = await store.SearchAsync(query, cancellationToken);
            for (var i = 0; i < page.Rows.Count; i++)
            {
                var row = page.Rows[i];
                scanned++;
                if (Read(row.Json) is { } alert && (unscoped || Sees(caller, alert)))
                {
                    visible.Add((alert, row));
                    if (visible.Count == query.Limit)
                    {
                        var more = i < page.Rows.Count - 1 || page.Next is not null;
                        return (visible, more ? row.Cursor : null, scanned);
                    }
                }
            }
            if (page.Next is null)
            {
                return (visible, null, scanned);
            }
            if (scanned >= _options.MaxScan)
            {
                return (visible, page.Next, scanned);
            }
            query = query with { After = page.Next };
        }
    }

    /// <summary>Counts in the store for unscoped callers; for scoped ones counted from the visible alerts, within the scan budget.</summary>
    public async Task<(IReadOnlyList<CountRow> Counts, bool Truncated)> CountAsync(CallerAccess caller, CountQuery query, CancellationToken cancellationToken)
    {
        if (caller.HasUnscoped(Role.Viewer))
        {
            return (await store.CountAsync(query, cancellationToken), false);
        }
        var counts = new Dictionary<(long, string), long>();
        var filter = query.Filter with { Limit = ApiArguments.MaxLimit, After = null };
        var bucketMicros = (long)query.Bucket.TotalMicroseconds;
        long scanned = 0;
        while (true)
        {
            var page = await store.SearchAsync(filter, cancellationToken);
            foreach (var row in page.Rows)
            {
                scanned++;
                if (Read(row.Json) is { } alert && Sees(caller, alert))
                {
                    var key = query.Key switch
                    {
                        CountKey.Level => alert.Level.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        CountKey.Rule => alert.Rule.Id,
                        CountKey.Agent => alert.AgentId,
                        _ => (alert.Actor?.Workload ?? alert.Container)?.PodNamespace ?? "",
                    };
                    var bucket = Math.DivRem(row.ObservedAtMicros, bucketMicros, out var rem) - (rem < 0 ? 1 : 0);
                    counts[(bucket, key)] = counts.GetValueOrDefault((bucket, key)) + 1;
                }
            }
            if (page.Next is null || scanned >= _options.MaxScan)
            {
                var rows = counts.OrderBy(c => c.Key.Item1).ThenBy(c => c.Key.Item2, StringComparer.Ordinal)
                    .Select(c => new CountRow(Micros.ToTime(c.Key.Item1 * bucketMicros), c.Key.Item2, c.Value)).ToList();
                return (rows, page.Next is not null);
            }
            filter = filter with { After = page.Next };
        }
    }

    /// <summary>The stored alerts among <paramref name="ids"/> that the caller may see (unknown and out-of-scope ids alike left out).</summary>
    public async Task<IReadOnlyList<(Alert Alert, AlertRow Row)>> GetAsync(CallerAccess caller, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var rows = await reviews.GetAlertsAsync(ids, cancellationToken);
        return [.. rows.Select(r => (Alert: Read(r.Json), Row: r)).Where(r => r.Alert is not null && Sees(caller, r.Alert)).Select(r => (r.Alert!, r.Row))];
    }

    /// <summary>ReviewAlerts: checks the request, reviews the given alerts (all or nothing) or every match of its filter that the caller may review.</summary>
    public async Task<V1.ReviewAlertsResponse> ReviewAsync(CallerAccess caller, V1.ReviewAlertsRequest request, CancellationToken cancellationToken)
    {
        if (!caller.Has(Role.Analyst))
        {
            // The API's policy refuses this before it gets here; the console's handlers rely on this check.
            throw new RpcException(new Status(StatusCode.PermissionDenied, "reviewing alerts needs the analyst role"));
        }
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

    /// <summary>Reviewing needs the analyst role over the alert's agent and namespace, as reading needs the viewer role.</summary>
    private bool MayReview(CallerAccess caller, AlertRow row) => Read(row.Json) is { } alert && Sees(caller, alert, Role.Analyst);

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

    /// <summary>A stored or streamed alert's JSON; null when it does not read as one.</summary>
    public static Alert? Read(byte[]? data)
    {
        try
        {
            return data is null ? null : JsonSerializer.Deserialize<Alert>(data, ContractJson.Default.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
