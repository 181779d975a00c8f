using Fim.Api.V1;
using V1 = Fim.Api.V1;
using Fim.Manager.Security;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Contract = Fim.Contracts.MaintenanceWindow;

namespace Fim.Manager.Maintenance;

/// <summary>
/// Maintenance windows for one caller: opening and ending one needs the analyst role for every agent the window covers
/// (a caller limited to some agents may open a window only within that limit); listing is for viewers. The API
/// (fimctl maintenance) and the console both come here.
/// </summary>
public sealed class MaintenanceAccess(MaintenanceWindows windows, IOptions<MaintenanceOptions> options, MaintenanceClock clock)
{
    public async Task<V1.MaintenanceWindow> CreateAsync(CallerAccess caller, CreateMaintenanceWindowRequest request, CancellationToken cancellationToken)
    {
        var window = MaintenanceRequest.ToWindow(request, options.Value, clock.Time.GetUtcNow(), caller.Subject);
        if (!Covers(caller, window.MatchLabels))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                "match_labels: your analyst role is limited to some agents; the window must select only agents within that limit (include your role's labels)"));
        }
        var stored = await windows.CreateAsync(window, cancellationToken);
        return Map(stored);
    }

    public ListMaintenanceWindowsResponse List(bool includeClosed)
    {
        var now = clock.Time.GetUtcNow();
        var response = new ListMaintenanceWindowsResponse();
        response.Windows.AddRange(windows.All.Where(w => includeClosed || w.ClosesAt > now).Select(Map));
        return response;
    }

    public async Task<V1.MaintenanceWindow> EndAsync(CallerAccess caller, string? windowId, CancellationToken cancellationToken)
    {
        var id = windowId ?? "";
        if (!System.Text.RegularExpressions.Regex.IsMatch(id, "^mw-[0-9a-f]{12}$"))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "window_id: expected mw- and 12 hex digits"));
        }
        var known = windows.All.FirstOrDefault(w => w.Id == id);
        if (known is not null && !Covers(caller, known.MatchLabels))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"window_id: window {id} covers agents outside your analyst role"));
        }
        Contract? ended;
        try
        {
            ended = await windows.EndAsync(id, caller.Subject, cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
        return ended is null
            ? throw new RpcException(new Status(StatusCode.NotFound, $"window_id: no maintenance window {id}"))
            : Map(ended);
    }

    /// <summary>Whether one analyst grant covers every agent the window can select: unlimited, or limited by labels the window also requires.</summary>
    public static bool Covers(CallerAccess caller, IReadOnlyDictionary<string, string> windowLabels) =>
        caller.Grants.Any(g => g.Role >= Role.Analyst && g.Namespaces is not { Count: > 0 }
            && (g.Agents is null || (g.Agents.MatchExpressions is not { Count: > 0 }
                && (g.Agents.MatchLabels ?? new Dictionary<string, string>()).All(kv => windowLabels.TryGetValue(kv.Key, out var v) && v == kv.Value))));

    private V1.MaintenanceWindow Map(Contract w)
    {
        var m = new V1.MaintenanceWindow
        {
            WindowId = w.Id,
            Start = Timestamp.FromDateTimeOffset(w.Start),
            End = Timestamp.FromDateTimeOffset(w.End),
            Reason = w.Reason,
            LevelReduction = w.LevelReduction,
            CreatedBy = w.CreatedBy,
            CreatedAt = Timestamp.FromDateTimeOffset(w.CreatedAt),
            EndedBy = w.EndedBy ?? "",
            Open = w.IsOpenAt(clock.Time.GetUtcNow()),
            Tag = Contract.Tag(w.Id),
        };
        m.MatchLabels.Add(w.MatchLabels);
        if (w.EndedAt is { } ended)
        {
            m.EndedAt = Timestamp.FromDateTimeOffset(ended);
        }
        return m;
    }
}
