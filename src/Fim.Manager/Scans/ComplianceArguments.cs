using Fim.Api.V1;
using Fim.Contracts;
using Fim.Manager.Api;
using Fim.Manager.Fleet;

namespace Fim.Manager.Scans;

/// <summary>The compliance report's checked arguments; each refusal is InvalidArgument naming the field.</summary>
public sealed record ComplianceArguments(DateTimeOffset From, DateTimeOffset To, string SelectorText, LabelSelector Selector, bool Csv, TimeSpan MaxGap,
    int MinLevel, int MaxAlerts)
{
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(400);
    public static readonly TimeSpan DefaultMaxGap = TimeSpan.FromDays(7);
    public const int DefaultMinLevel = 10;
    public const int DefaultMaxAlerts = 20;
    public const int MaxMaxAlerts = 1000;

    public static ComplianceArguments Parse(GetComplianceReportRequest request, DateTimeOffset now)
    {
        if (request.From is null)
        {
            throw ApiArguments.Invalid("from: is required (the start of the reporting period)");
        }
        var from = ApiArguments.Time(request.From, "from");
        var to = request.To is null ? now : ApiArguments.Time(request.To, "to");
        if (from >= to)
        {
            throw ApiArguments.Invalid($"from: must be before to ({to:yyyy-MM-ddTHH:mm:ssZ})");
        }
        if (to - from > MaxRange)
        {
            throw ApiArguments.Invalid($"to: the range may span at most {MaxRange.TotalDays:0} days, got {(to - from).TotalDays:0.#}");
        }
        var selector = FleetArguments.Selector(request.Selector ?? "");
        var csv = (request.Format ?? "").ToLowerInvariant() switch
        {
            "" or "json" => false,
            "csv" => true,
            _ => throw ApiArguments.Invalid($"format: '{Printable(request.Format!)}' is not json or csv"),
        };
        var maxGap = string.IsNullOrEmpty(request.MaxGap) ? DefaultMaxGap : FleetArguments.Duration(request.MaxGap, "max_gap");
        if (maxGap <= TimeSpan.Zero || maxGap > MaxRange)
        {
            throw ApiArguments.Invalid($"max_gap: must be more than 0 and at most {MaxRange.TotalDays:0} days");
        }
        var minLevel = !request.HasMinLevel ? DefaultMinLevel
            : request.MinLevel is >= 0 and <= 15 ? request.MinLevel
            : throw ApiArguments.Invalid($"min_level: must be 0..15, got {request.MinLevel}");
        var maxAlerts = !request.HasMaxAlerts ? DefaultMaxAlerts
            : request.MaxAlerts is >= 1 and <= MaxMaxAlerts ? request.MaxAlerts
            : throw ApiArguments.Invalid($"max_alerts: must be 1..{MaxMaxAlerts}, got {request.MaxAlerts}");
        return new ComplianceArguments(from, to, request.Selector ?? "", selector, csv, maxGap, minLevel, maxAlerts);
    }

    private static string Printable(string text) => Fim.Contracts.Text.TerminalText.Escape(text.Length > 40 ? text[..40] + "..." : text);
}
