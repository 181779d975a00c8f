extern alias ctl;

using System.Net;
using System.Text.Json;
using Fim.Api.V1;
using Fim.Contracts;
using Fim.Manager.Tests.Support;
using Fim.Testing;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.JetStream;
using ctl::Fim.Ctl;

namespace Fim.Manager.Tests.Store;

/// <summary>
/// Scan records published on fim.scans.&lt;agent&gt; reach the manager's store through its scan indexer and come back
/// through gRPC, REST and fimctl; the compliance report shows the agent that missed its weekly scans.
/// </summary>
public sealed class ScanApiFixture : IAsyncLifetime
{
    public NatsFixture Nats { get; } = new();
    public TestManager Manager { get; private set; } = null!;
    public string Weekly { get; } = TestEvents.NewAgentId("weekly");
    public string Missed { get; } = TestEvents.NewAgentId("missed");
    public DateTimeOffset To { get; } = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-1);
    public DateTimeOffset From => To.AddDays(-28);
    public List<ScanRecord> Records { get; } = [];

    public async Task InitializeAsync()
    {
        await Nats.InitializeAsync();
        Manager = await TestManager.StartAsync(Nats.Server.Url);
        await Nats.Client.PutHeartbeatAsync(Weekly, new Dictionary<string, string> { ["scope"] = "pci", ["team"] = "a,\"b\"" });
        await Nats.Client.PutHeartbeatAsync(Missed, new Dictionary<string, string> { ["scope"] = "pci" });
        var js = new NatsJSContext(Nats.Client.Connection);
        for (var k = 0; k < 4; k++)
        {
            Records.Add(ScanStoreContract.Scan(Weekly, "pci/etc", From.AddHours(1).AddDays(7 * k), labels: new Dictionary<string, string> { ["scope"] = "pci" }));
        }
        Records.Add(ScanStoreContract.Scan(Missed, "pci/etc", From.AddHours(1), added: 2, labels: new Dictionary<string, string> { ["scope"] = "pci" }));
        foreach (var r in Records)
        {
            var ack = await js.PublishAsync(Subjects.Scans(r.AgentId), ContractJson.ToUtf8(r), opts: new NatsJSPubOpts { MsgId = r.MessageId });
            ack.EnsureSuccess();
        }
        // One claiming another agent than its subject's: not stored.
        var forged = ScanStoreContract.Scan(Weekly, "pci/etc", From.AddDays(2));
        (await js.PublishAsync(Subjects.Scans(Missed), ContractJson.ToUtf8(forged))).EnsureSuccess();
        await Eventually.TrueAsync(async () => (await Manager.Services.GetRequiredService<Fim.Manager.Store.IScanStore>()
            .SearchScansAsync(new Fim.Manager.Store.ScanQuery { Since = From.AddDays(-1), Until = To }, CancellationToken.None)).Rows
            .Count(r => r.ScanId.Length > 0 && Records.Any(x => x.ScanId == r.ScanId)) == Records.Count, "the scan records stored");
    }

    public async Task DisposeAsync()
    {
        await Manager.DisposeAsync();
        await Nats.DisposeAsync();
    }
}

public sealed class ScanApiTests(ScanApiFixture f) : IClassFixture<ScanApiFixture>
{
    private FimScans.FimScansClient Grpc => new(f.Manager.Channel);

    private static Timestamp Ts(DateTimeOffset t) => Timestamp.FromDateTimeOffset(t);

    [Fact]
    public async Task Scans_are_listed_by_agent_newest_first_through_gRPC_and_REST_and_a_forged_agent_id_is_not_stored()
    {
        var response = await Grpc.ListScansAsync(new ListScansRequest { AgentId = f.Weekly, Since = Ts(f.From), Until = Ts(f.To) });
        Assert.Equal(f.Records.Where(r => r.AgentId == f.Weekly).OrderByDescending(r => r.FinishedAt).Select(r => r.ScanId), response.Scans.Select(s => s.ScanId));
        Assert.All(response.Scans, s => Assert.Equal("pci/etc", s.Policy));
        var page = await Grpc.ListScansAsync(new ListScansRequest { AgentId = f.Weekly, Since = Ts(f.From), Until = Ts(f.To), Limit = 3 });
        Assert.Equal(3, page.Scans.Count);
        var rest2 = await Grpc.ListScansAsync(new ListScansRequest { AgentId = f.Weekly, Since = Ts(f.From), Until = Ts(f.To), Cursor = page.NextCursor });
        Assert.Equal(response.Scans.Skip(3).Select(s => s.ScanId), rest2.Scans.Select(s => s.ScanId));
        Assert.Equal("", rest2.NextCursor);

        var missed = await Grpc.ListScansAsync(new ListScansRequest { AgentId = f.Missed, Since = Ts(f.From), Until = Ts(f.To) });
        var only = Assert.Single(missed.Scans);
        Assert.Equal(2, only.Added);
        Assert.Equal("changed", only.Result);

        using var rest = JsonDocument.Parse(await f.Manager.Http.GetStringAsync(
            $"/api/v1/scans?agentId={f.Missed}&since={f.From:yyyy-MM-ddTHH:mm:ssZ}&until={f.To:yyyy-MM-ddTHH:mm:ssZ}"));
        Assert.Equal(only.ScanId, Assert.Single(rest.RootElement.GetProperty("scans").EnumerateArray()).GetProperty("scanId").GetString());
    }

    [Fact]
    public async Task The_compliance_report_over_REST_and_gRPC_shows_the_agent_that_missed_its_weekly_scans_as_JSON_and_CSV()
    {
        var url = $"/api/v1/reports/compliance?from={f.From:yyyy-MM-ddTHH:mm:ssZ}&to={f.To:yyyy-MM-ddTHH:mm:ssZ}&selector=scope%3Dpci";
        var json = await f.Manager.Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        Assert.Equal("application/json", json.Content.Headers.ContentType!.MediaType);
        using var doc = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
        var agents = doc.RootElement.GetProperty("agents").EnumerateArray().ToDictionary(a => a.GetProperty("agentId").GetString()!);
        Assert.Equal(new[] { f.Missed, f.Weekly }.Order(StringComparer.Ordinal), agents.Keys.Order(StringComparer.Ordinal));
        Assert.False(agents[f.Weekly].GetProperty("gapExceeded").GetBoolean());
        Assert.True(agents[f.Missed].GetProperty("gapExceeded").GetBoolean());
        Assert.Equal("1", agents[f.Missed].GetProperty("scans").GetString());

        var csv = await f.Manager.Http.GetAsync(url + "&format=csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("agent_id,host,status,labels,scans,", lines[0]);
        Assert.Contains(lines, l => l.StartsWith(f.Missed + ",", StringComparison.Ordinal) && l.Contains(",true,", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith(f.Weekly + ",", StringComparison.Ordinal) && l.Contains("\"scope=pci,team=a,\"\"b\"\"\"", StringComparison.Ordinal));

        var body = await Grpc.GetComplianceReportAsync(new GetComplianceReportRequest { From = Ts(f.From), To = Ts(f.To), Selector = "scope=pci", Format = "csv" });
        Assert.Equal("text/csv; charset=utf-8", body.ContentType);
        Assert.Equal(3, body.Data.ToStringUtf8().Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
    }

    public static TheoryData<string, string> BadReports => new()
    {
        { "from=2026-03-01T00:00:00Z&to=2026-02-01T00:00:00Z", "from: must be before to" },
        { "from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to: the range may span at most 400 days" },
        { "from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&selector=in%20(", "selector:" },
        { "from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&format=xlsx", "format: 'xlsx' is not json or csv" },
        { "from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&maxGap=soon", "max_gap:" },
        { "to=2026-02-01T00:00:00Z", "from: is required" },
    };

    [Theory]
    [MemberData(nameof(BadReports))]
    public async Task Bad_report_arguments_are_400_naming_the_field(string query, string message)
    {
        var response = await f.Manager.Http.GetAsync("/api/v1/reports/compliance?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Bad_scan_filters_are_invalid_argument_naming_the_field()
    {
        var now = DateTimeOffset.UtcNow;
        var e = await Assert.ThrowsAsync<RpcException>(() => Grpc.ListScansAsync(new ListScansRequest { Since = Ts(now), Until = Ts(now.AddHours(-1)) }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("since: must be before until", e.Status.Detail);
        e = await Assert.ThrowsAsync<RpcException>(() => Grpc.ListScansAsync(new ListScansRequest { Cursor = "nope!" }).ResponseAsync);
        Assert.StartsWith("cursor:", e.Status.Detail);
        e = await Assert.ThrowsAsync<RpcException>(() => Grpc.ListScansAsync(new ListScansRequest { Limit = 5000 }).ResponseAsync);
        Assert.StartsWith("limit:", e.Status.Detail);
    }

    [Fact]
    public async Task Fimctl_lists_scans_and_writes_the_compliance_report_to_a_file()
    {
        var env = new Dictionary<string, string> { ["FIM_TOKEN"] = await f.Manager.Oidc.TokenAsync(OidcProvider.Admin) };
        var server = $"http://127.0.0.1:{f.Manager.GrpcPort}";
        async Task<(int Code, string Out, string Err)> Run(params string[] args)
        {
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            var code = await new Cli(stdout, stderr, name => env.GetValueOrDefault(name)).RunAsync(args);
            return (code, stdout.ToString(), stderr.ToString());
        }
        var from = f.From.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var to = f.To.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var (code, output, error) = await Run("scans", "--agent", f.Weekly, "--since", from, "--until", to, "--json", "--server", server);
        Assert.True(code == Cli.Ok, error);
        Assert.Equal(4, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var file = Path.Combine(Path.GetTempPath(), $"fim-report-{Guid.NewGuid():N}.csv");
        try
        {
            (code, _, error) = await Run("report", "compliance", "--from", from, "--to", to, "--selector", "scope=pci", "--format", "csv", "-o", file, "--server", server);
            Assert.True(code == Cli.Ok, error);
            var lines = (await File.ReadAllTextAsync(file)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.Contains(lines, l => l.StartsWith(f.Missed + ",", StringComparison.Ordinal) && l.Contains(",true,", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }
        (code, _, error) = await Run("report", "compliance", "--from", from, "--to", to, "--format", "pdf", "--server", server);
        Assert.Equal(Cli.InvalidArgument, code);
        Assert.Contains("format:", error);
    }
}
