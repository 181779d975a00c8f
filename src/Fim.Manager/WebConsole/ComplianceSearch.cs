using System.Globalization;
using Fim.Api.V1;
using Google.Protobuf.WellKnownTypes;

namespace Fim.Manager.WebConsole;

/// <summary>
/// The compliance page's scope and range as they stand in its URL (the REST API's parameter names; times also as
/// 30d or 12h ago). It becomes the API's GetComplianceReportRequest, checked by the API's own arguments; the page and
/// its CSV download read the same URL, so the file holds what the page shows.
/// </summary>
public sealed record ComplianceSearch(string? From, string? To, string? Selector, string? MaxGap, string? MinLevel)
{
    /// <summary>Agents per page of the console's report (the CSV holds them all).</summary>
    public const int PageSize = 25;
    public const string DefaultFrom = "30d";
    public const string CsvPath = "/console/compliance.csv";

    public static ComplianceSearch FromQuery(IQueryCollection query) =>
        new(query["from"], query["to"], query["selector"], query["maxGap"], query["minLevel"]);

    /// <summary>The API request, or a FormatException naming the URL parameter.</summary>
    public GetComplianceReportRequest ToRequest(DateTimeOffset now, bool csv = false)
    {
        var request = new GetComplianceReportRequest
        {
            From = Timestamp.FromDateTimeOffset(ConsoleParameters.Time(string.IsNullOrEmpty(From) ? DefaultFrom : From, "from", now)!.Value),
            Selector = Selector ?? "",
            MaxGap = MaxGap ?? "",
            Format = csv ? "csv" : "json",
        };
        if (ConsoleParameters.Time(To, "to", now) is { } to)
        {
            request.To = Timestamp.FromDateTimeOffset(to);
        }
        if (!string.IsNullOrEmpty(MinLevel))
        {
            request.MinLevel = int.TryParse(MinLevel, NumberStyles.None, CultureInfo.InvariantCulture, out var level)
                ? level
                : throw new FormatException($"minLevel: '{ConsoleParameters.Shorten(MinLevel)}' is not a whole number (levels are 0..15)");
        }
        return request;
    }

    /// <param name="after">The agent id the page starts after (the console's pages; the CSV ignores it).</param>
    public string ToUrl(string page = "console/compliance", string? after = null) => ConsoleParameters.Url(page,
        [("from", From), ("to", To), ("selector", Selector), ("maxGap", MaxGap), ("minLevel", MinLevel), ("after", after)]);
}
