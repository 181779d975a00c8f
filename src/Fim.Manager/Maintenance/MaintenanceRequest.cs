using System.Text.RegularExpressions;
using Fim.Contracts;
using Grpc.Core;
using V1 = Fim.Api.V1;

namespace Fim.Manager.Maintenance;

/// <summary>Checks a create request and turns it into a window; a bad field is INVALID_ARGUMENT naming it.</summary>
public static partial class MaintenanceRequest
{
    public const int MaxReasonLength = 500;
    private const int MaxLabelPart = 63;

    public static MaintenanceWindow ToWindow(V1.CreateMaintenanceWindowRequest request, MaintenanceOptions options, DateTimeOffset now, string createdBy)
    {
        var start = request.Start is null ? now : Time(request.Start, "start");
        if (start < now - options.MaxBackdate)
        {
            throw Invalid($"start: {start:O} is more than {options.MaxBackdate} in the past (a window covers changes from now on, not ones already judged)");
        }
        if (start > now + options.MaxLeadTime)
        {
            throw Invalid($"start: {start:O} is more than {options.MaxLeadTime.TotalDays:0} days ahead");
        }
        DateTimeOffset end;
        if (request.End is not null && request.HasDurationSeconds)
        {
            throw Invalid("end, duration_seconds: give one of them, not both");
        }
        if (request.End is not null)
        {
            end = Time(request.End, "end");
            if (end <= start)
            {
                throw Invalid($"end: {end:O} is not after start {start:O}");
            }
        }
        else if (request.HasDurationSeconds)
        {
            if (request.DurationSeconds <= 0)
            {
                throw Invalid($"duration_seconds: must be positive, got {request.DurationSeconds}");
            }
            if (request.DurationSeconds > options.MaxDuration.TotalSeconds)
            {
                throw Invalid($"duration_seconds: {request.DurationSeconds} s is longer than the maximum window of {options.MaxDuration}");
            }
            end = start.AddSeconds(request.DurationSeconds);
        }
        else
        {
            throw Invalid("end, duration_seconds: one of them is required (when the window closes)");
        }
        if (end - start > options.MaxDuration)
        {
            throw Invalid($"end: the window would last {end - start}, longer than the maximum of {options.MaxDuration}");
        }
        var reason = request.Reason?.Trim() ?? "";
        if (reason.Length == 0)
        {
            throw Invalid("reason: is required (what the window is for, e.g. \"monthly patching, CHG-1234\")");
        }
        if (reason.Length > MaxReasonLength || reason.Any(char.IsControl))
        {
            throw Invalid($"reason: at most {MaxReasonLength} characters without control characters");
        }
        var reduction = request.HasLevelReduction ? request.LevelReduction : options.LevelReduction;
        if (reduction is < 0 or > 15)
        {
            throw Invalid($"level_reduction: must be 0..15, got {reduction}");
        }
        foreach (var (key, value) in request.MatchLabels)
        {
            if (LabelProblem(key, value) is { } problem)
            {
                throw Invalid($"match_labels: {problem}");
            }
        }
        return new MaintenanceWindow
        {
            Start = start,
            End = end,
            MatchLabels = new Dictionary<string, string>(request.MatchLabels, StringComparer.Ordinal),
            Reason = reason,
            LevelReduction = reduction,
            CreatedBy = createdBy,
            CreatedAt = now,
        };
    }

    /// <summary>Why a label pair is not a Kubernetes label (key: optional DNS prefix and a name of at most 63 characters), or null.</summary>
    public static string? LabelProblem(string key, string value)
    {
        var slash = key.LastIndexOf('/');
        var name = slash < 0 ? key : key[(slash + 1)..];
        var prefix = slash < 0 ? null : key[..slash];
        if (name.Length is 0 or > MaxLabelPart || !LabelPart().IsMatch(name) || (prefix is not null && (prefix.Length is 0 or > 253 || !DnsPrefix().IsMatch(prefix))))
        {
            return $"'{Printable(key)}' is not a label key (an optional DNS prefix and '/', then 1-63 letters, digits, '-', '_', '.', starting and ending with a letter or digit)";
        }
        if (value.Length > MaxLabelPart || (value.Length > 0 && !LabelPart().IsMatch(value)))
        {
            return $"the value of '{key}' ('{Printable(value)}') is not a label value (at most 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit)";
        }
        return null;
    }

    private static string Printable(string s) => new([.. s.Take(80).Select(c => char.IsControl(c) ? '?' : c)]);

    private static DateTimeOffset Time(Google.Protobuf.WellKnownTypes.Timestamp t, string field)
    {
        try
        {
            return t.ToDateTimeOffset();
        }
        catch (InvalidOperationException)
        {
            throw Invalid($"{field}: not a valid time");
        }
    }

    private static RpcException Invalid(string detail) => new(new Status(StatusCode.InvalidArgument, detail));

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]
    private static partial Regex LabelPart();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsPrefix();
}
