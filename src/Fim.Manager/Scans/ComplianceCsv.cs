using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using Fim.Api.V1;

namespace Fim.Manager.Scans;

/// <summary>
/// The compliance report as CSV: one row per agent, the columns of <see cref="Columns"/> (docs/store.md), RFC 4180
/// quoting (CsvHelper) and no formula injection: a cell starting with = + - @ (or a tab or carriage return) gets a
/// leading apostrophe, as OWASP advises, so a spreadsheet shows it as text.
/// </summary>
public static class ComplianceCsv
{
    public static readonly string[] Columns =
    [
        "agent_id", "host", "status", "labels", "scans", "first_scan", "last_scan", "longest_gap_seconds", "expected_interval_seconds",
        "gap_exceeded", "failed_scans", "policies_missed", "changes_total", "changes_by_level",
        "review_new", "review_expected", "review_incident", "review_false_positive", "unreviewed_high", "unreviewed_high_alerts",
    ];

    public static byte[] Write(ComplianceReport report)
    {
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            InjectionOptions = InjectionOptions.Escape,
            NewLine = "\r\n",
        };
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = new CsvWriter(text, config))
        {
            foreach (var column in Columns)
            {
                csv.WriteField(column);
            }
            csv.NextRecord();
            foreach (var a in report.Agents)
            {
                csv.WriteField(a.AgentId);
                csv.WriteField(a.Host);
                csv.WriteField(a.Status);
                csv.WriteField(string.Join(",", a.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")));
                csv.WriteField(Number(a.Scans));
                csv.WriteField(Time(a.FirstScan));
                csv.WriteField(Time(a.LastScan));
                csv.WriteField(Number(a.LongestGapSeconds));
                csv.WriteField(Number(a.ExpectedIntervalSeconds));
                csv.WriteField(a.GapExceeded ? "true" : "false");
                csv.WriteField(Number(a.FailedScans));
                csv.WriteField(string.Join(" ", a.Policies.Where(p => p.GapExceeded).Select(p => p.Policy)));
                csv.WriteField(Number(a.ChangesByLevel.Values.Aggregate(0UL, (x, y) => x + y)));
                csv.WriteField(string.Join(" ", a.ChangesByLevel.OrderBy(l => l.Key).Select(l => $"{l.Key}:{l.Value}")));
                foreach (var state in ComplianceReportBuilder.ReviewStates)
                {
                    csv.WriteField(Number(a.ReviewStates.GetValueOrDefault(state)));
                }
                csv.WriteField(Number(a.UnreviewedHigh));
                // One alert per line inside the cell: time, level, rule, kind, path.
                csv.WriteField(string.Join("\n", a.UnreviewedHighAlerts.Select(u => $"{Time(u.ObservedAt)} {u.Level} {u.RuleId} {u.Kind} {u.Path}")));
                csv.NextRecord();
            }
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Number(ulong n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Time(Google.Protobuf.WellKnownTypes.Timestamp? t) =>
        t is null ? "" : t.ToDateTimeOffset().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
