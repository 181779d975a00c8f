extern alias ctl;

using System.Net;
using System.Text.Json;
using Fim.Api.V1;
using Fim.Manager.Tests.Support;
using Fim.Testing;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using ctl::Fim.Ctl;

namespace Fim.Manager.Tests.Store;

/// <summary>A manager whose alerts come from its indexer into the SQLite store: paths that look like SQL or LIKE patterns.</summary>
public sealed class StoreApiFixture : IAsyncLifetime
{
    public NatsFixture Nats { get; } = new();
    public TestManager Manager { get; private set; } = null!;
    public string Agent { get; } = TestEvents.NewAgentId("store-api");
    public string[] Paths { get; } = ["/srv/a%b", "/srv/a_b", "/srv/axb", "/srv/it's", "/srv/back\\slash", "/srv/q\"uote", "/srv/sub/one", "/srv/sub/two"];
    /// <summary>Agents with labels, whose alerts carry them; their files belong to packages or not.</summary>
    public string Payments { get; } = TestEvents.NewAgentId("store-pay");
    public string Web { get; } = TestEvents.NewAgentId("store-web");

    public async Task InitializeAsync()
    {
        await Nats.InitializeAsync();
        Manager = await TestManager.StartAsync(Nats.Server.Url);
        await Nats.Client.PutHeartbeatAsync(Agent);
        foreach (var path in Paths)
        {
            await Nats.Client.PublishEventAsync(TestEvents.Event(Agent, path));
        }
        await Nats.Client.PutHeartbeatAsync(Payments, new Dictionary<string, string> { ["team"] = "payments", ["env"] = "prod" });
        await Nats.Client.PutHeartbeatAsync(Web, new Dictionary<string, string> { ["team"] = "web", ["env"] = "prod" });
        // The manager labels an alert with what its directory knows at the time, so the heartbeats first.
        await Eventually.TrueAsync(() => Manager.Services.GetService(typeof(Agents.AgentDirectory)) is Agents.AgentDirectory d
            && d.TryGet(Payments, out _) && d.TryGet(Web, out _), "labelled agents' heartbeats seen");
        foreach (var (agent, path, package, verified) in (ValueTuple<string, string, string?, bool>[])[
            (Payments, "/usr/lib/libssl.so.3", "openssl", true),
            (Payments, "/usr/bin/openssl", "openssl", false),
            (Payments, "/etc/payments.conf", null, false),
            (Web, "/usr/lib/libssl.so.3", "openssl", true),
            (Web, "/etc/nginx/nginx.conf", null, false)])
        {
            var e = TestEvents.Event(agent, path);
            if (package is not null)
            {
                e.Package = new Fim.Contracts.PackageInfo { Manager = Fim.Contracts.PackageInfo.Dpkg, Name = package, Verified = verified };
            }
            await Nats.Client.PublishEventAsync(e);
        }
        await Manager.AwaitStoredAsync(Paths.Length + 5);
    }

    public async Task DisposeAsync()
    {
        await Manager.DisposeAsync();
        await Nats.DisposeAsync();
    }
}

public sealed class StoreApiTests(StoreApiFixture f) : IClassFixture<StoreApiFixture>
{
    private FimManager.FimManagerClient Grpc => f.Manager.Client;

    private async Task<List<string>> PathsAsync(ListAlertsRequest request)
    {
        request.AgentId = f.Agent;
        return [.. (await Grpc.ListAlertsAsync(request)).Alerts.Select(a => a.Path).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task Path_filters_through_the_API_take_percent_underscore_quotes_and_backslash_literally()
    {
        Assert.Equal(["/srv/a%b"], await PathsAsync(new ListAlertsRequest { PathPrefix = "/srv/a%" }));
        Assert.Equal(["/srv/a_b"], await PathsAsync(new ListAlertsRequest { PathPrefix = "/srv/a_" }));
        Assert.Equal(["/srv/it's"], await PathsAsync(new ListAlertsRequest { Path = "/srv/it's" }));
        Assert.Equal(["/srv/back\\slash"], await PathsAsync(new ListAlertsRequest { PathGlob = "/srv/back\\\\*" }));
        Assert.Equal(["/srv/sub/one", "/srv/sub/two"], await PathsAsync(new ListAlertsRequest { PathGlob = "/srv/*/*" }));
        Assert.Empty(await PathsAsync(new ListAlertsRequest { PathPrefix = "' OR 1=1 --" }));
        // REST, percent-encoded.
        using var rest = JsonDocument.Parse(await f.Manager.Http.GetStringAsync($"/api/v1/alerts?agentId={f.Agent}&pathPrefix=%2Fsrv%2Fq%22"));
        Assert.Equal(["/srv/q\"uote"], rest.RootElement.GetProperty("alerts").EnumerateArray().Select(a => a.GetProperty("path").GetString()));
    }

    [Fact]
    public async Task Pages_follow_the_cursor_newest_first_to_the_end()
    {
        var seen = new List<string>();
        var request = new ListAlertsRequest { AgentId = f.Agent, Limit = 3 };
        var pages = 0;
        while (true)
        {
            var page = await Grpc.ListAlertsAsync(request);
            pages++;
            seen.AddRange(page.Alerts.Select(a => a.AlertId));
            Assert.True(page.Alerts.Zip(page.Alerts.Skip(1)).All(p => p.First.ObservedAt.ToDateTimeOffset() >= p.Second.ObservedAt.ToDateTimeOffset()));
            if (!page.Truncated)
            {
                Assert.Equal("", page.NextCursor);
                break;
            }
            request.Cursor = page.NextCursor;
        }
        Assert.Equal(3, pages);
        Assert.Equal(f.Paths.Length, seen.Distinct().Count());
    }

    [Fact]
    public async Task Counts_over_time_group_by_level_and_agent()
    {
        var counts = await Grpc.CountAlertsOverTimeAsync(new CountAlertsOverTimeRequest
        {
            Filter = new ListAlertsRequest { AgentId = f.Agent },
            GroupBy = "agent",
            BucketSeconds = 86400,
        });
        Assert.Equal((ulong)f.Paths.Length, counts.Buckets.Where(b => b.Key == f.Agent).Aggregate(0UL, (n, b) => n + b.Count));
        using var rest = JsonDocument.Parse(await f.Manager.Http.GetStringAsync($"/api/v1/alerts/counts?filter.agentId={f.Agent}&groupBy=level"));
        Assert.NotEmpty(rest.RootElement.GetProperty("buckets").EnumerateArray());
    }

    public static TheoryData<string, string> BadRequests => new()
    {
        { "reversed", "since: must be before until" },
        { "limit", "limit: must be 1..1000" },
        { "cursor", "cursor: is malformed" },
        { "glob", "path_glob: is not a valid glob" },
        { "two paths", "path_prefix: give at most one" },
        { "max level", "max_level: must be 0..15" },
        { "level range", "max_level: must not be below min_level" },
        { "group by", "group_by: must be level, rule, agent or namespace" },
        { "bucket", "bucket_seconds: must be 60.." },
        { "buckets", "bucket_seconds: the range holds" },
        { "counts filter", "filter.min_level: must be 0..15" },
        { "history cursor", "cursor: is malformed" },
        { "selector", "selector: 'env in prod': the values of in must be in parentheses" },
        { "selector key", "selector: " },
        { "counts selector", "filter.selector: " },
        { "review selector", "filter.selector: " },
        { "package", "package: must be at most 256 characters" },
        { "counts package", "filter.package: must be at most 256 characters" },
        { "nul path", "path_prefix: must not contain a NUL character (at index 6)" },
        { "nul host", "host: must not contain a NUL character" },
        { "counts nul rule", "filter.rule_id: must not contain a NUL character" },
        { "history nul path", "path: must not contain a NUL character" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_filters_are_invalid_argument_naming_the_field(string which, string message)
    {
        var now = DateTimeOffset.UtcNow;
        Task call = which switch
        {
            "reversed" => Grpc.ListAlertsAsync(new ListAlertsRequest { Since = Timestamp.FromDateTimeOffset(now), Until = Timestamp.FromDateTimeOffset(now.AddHours(-1)) }).ResponseAsync,
            "limit" => Grpc.ListAlertsAsync(new ListAlertsRequest { Limit = 1001 }).ResponseAsync,
            "cursor" => Grpc.ListAlertsAsync(new ListAlertsRequest { Cursor = "not a cursor!" }).ResponseAsync,
            "glob" => Grpc.ListAlertsAsync(new ListAlertsRequest { PathGlob = "/etc/\\" }).ResponseAsync,
            "two paths" => Grpc.ListAlertsAsync(new ListAlertsRequest { Path = "/etc/passwd", PathPrefix = "/etc/" }).ResponseAsync,
            "max level" => Grpc.ListAlertsAsync(new ListAlertsRequest { MaxLevel = 16 }).ResponseAsync,
            "level range" => Grpc.ListAlertsAsync(new ListAlertsRequest { MinLevel = 10, MaxLevel = 5 }).ResponseAsync,
            "group by" => Grpc.CountAlertsOverTimeAsync(new CountAlertsOverTimeRequest { GroupBy = "host" }).ResponseAsync,
            "bucket" => Grpc.CountAlertsOverTimeAsync(new CountAlertsOverTimeRequest { BucketSeconds = 1 }).ResponseAsync,
            "buckets" => Grpc.CountAlertsOverTimeAsync(new CountAlertsOverTimeRequest
            {
                Filter = new ListAlertsRequest { Since = Timestamp.FromDateTimeOffset(now.AddDays(-3650)) },
                BucketSeconds = 60,
            }).ResponseAsync,
            "counts filter" => Grpc.CountAlertsOverTimeAsync(new CountAlertsOverTimeRequest { Filter = new ListAlertsRequest { MinLevel = 16 } }).ResponseAsync,
            "selector" => Grpc.ListAlertsAsync(new ListAlertsRequest { Selector = "env in prod" }).ResponseAsync,
            "selector key" => Grpc.ListAlertsAsync(new ListAlertsRequest { Selector = "'; DROP TABLE alerts; --=x" }).ResponseAsync,
            "counts selector" => Grpc.CountAlertsOverTimeAsync(new CountAlertsOverTimeRequest { Filter = new ListAlertsRequest { Selector = "env=prod,,team=web" } }).ResponseAsync,
            "review selector" => Grpc.ReviewAlertsAsync(new ReviewAlertsRequest { State = "expected", Filter = new ListAlertsRequest { Selector = "env in (prod" } }).ResponseAsync,
            "package" => Grpc.ListAlertsAsync(new ListAlertsRequest { Package = new string('p', 257) }).ResponseAsync,
            "counts package" => Grpc.CountAlertsOverTimeAsync(new CountAlertsOverTimeRequest { Filter = new ListAlertsRequest { Package = new string('p', 257) } }).ResponseAsync,
            "nul path" => Grpc.ListAlertsAsync(new ListAlertsRequest { PathPrefix = "/srv/a\0" }).ResponseAsync,
            "nul host" => Grpc.ListAlertsAsync(new ListAlertsRequest { Host = "web\0" }).ResponseAsync,
            "counts nul rule" => Grpc.CountAlertsOverTimeAsync(new CountAlertsOverTimeRequest { Filter = new ListAlertsRequest { RuleId = "\0" } }).ResponseAsync,
            "history nul path" => Grpc.GetFileHistoryAsync(new GetFileHistoryRequest { AgentId = f.Agent, Path = "/etc/\0passwd" }).ResponseAsync,
            _ => Grpc.GetFileHistoryAsync(new GetFileHistoryRequest { AgentId = f.Agent, Path = "/etc/passwd", Cursor = "eA" }).ResponseAsync,
        };
        var e = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith(message, e.Status.Detail);
    }

    [Theory]
    [InlineData("/api/v1/alerts?cursor=%%%", "cursor: is malformed")]
    [InlineData("/api/v1/alerts?pathGlob=%2Fetc%5C", "path_glob: is not a valid glob")]
    [InlineData("/api/v1/alerts?limit=1001", "limit: must be 1..1000")]
    [InlineData("/api/v1/alerts?pod=web%00", "pod: must not contain a NUL character")]
    [InlineData("/api/v1/alerts/counts?groupBy=pod", "group_by:")]
    [InlineData("/api/v1/alerts?selector=env%20in%20prod", "selector: ")]
    [InlineData("/api/v1/alerts/counts?filter.selector=%21", "filter.selector: ")]
    [InlineData("/api/v1/alerts?package=ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp", "package: must be at most 256")]
    public async Task Bad_filters_over_REST_are_400_naming_the_field(string url, string message)
    {
        var response = await f.Manager.Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
    }

    private async Task<List<string>> LabelledAsync(ListAlertsRequest request) =>
        [.. (await Grpc.ListAlertsAsync(request)).Alerts.Where(a => a.AgentId == f.Payments || a.AgentId == f.Web)
            .Select(a => $"{(a.AgentId == f.Payments ? "pay" : "web")}:{a.Path}").Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Selector_and_package_filters_search_count_and_review_through_gRPC_REST_and_fimctl()
    {
        Assert.Equal(["pay:/etc/payments.conf", "pay:/usr/bin/openssl", "pay:/usr/lib/libssl.so.3"], await LabelledAsync(new ListAlertsRequest { Selector = "team=payments" }));
        Assert.Equal(["web:/etc/nginx/nginx.conf", "web:/usr/lib/libssl.so.3"], await LabelledAsync(new ListAlertsRequest { Selector = "env=prod,team notin (payments)" }));
        Assert.Equal(["pay:/usr/lib/libssl.so.3", "web:/usr/lib/libssl.so.3"], await LabelledAsync(new ListAlertsRequest { Selector = "team in (payments,web)", PackageUpdate = true }));
        Assert.Equal(["pay:/etc/payments.conf", "pay:/usr/bin/openssl"], await LabelledAsync(new ListAlertsRequest { Selector = "team=payments", PackageUpdate = false }));
        Assert.Equal(["pay:/usr/bin/openssl", "pay:/usr/lib/libssl.so.3", "web:/usr/lib/libssl.so.3"], await LabelledAsync(new ListAlertsRequest { Package = "openssl" }));
        Assert.Empty(await LabelledAsync(new ListAlertsRequest { Package = "openss%" }));
        // The unlabelled agent's alerts: no label at all.
        Assert.Equal(f.Paths.Length, (await Grpc.ListAlertsAsync(new ListAlertsRequest { AgentId = f.Agent, Selector = "!team,!env" })).Alerts.Count);
        Assert.Empty((await Grpc.ListAlertsAsync(new ListAlertsRequest { AgentId = f.Agent, Selector = "env" })).Alerts);

        // REST: the proto's query parameters.
        using var rest = JsonDocument.Parse(await f.Manager.Http.GetStringAsync("/api/v1/alerts?selector=team%3Dpayments&packageUpdate=true&package=openssl"));
        Assert.Equal(["/usr/lib/libssl.so.3"], rest.RootElement.GetProperty("alerts").EnumerateArray().Select(a => a.GetProperty("path").GetString()));

        var counts = await Grpc.CountAlertsOverTimeAsync(new CountAlertsOverTimeRequest
        {
            Filter = new ListAlertsRequest { Selector = "env=prod", PackageUpdate = false },
            GroupBy = "agent",
            BucketSeconds = 86400,
        });
        Assert.Equal(2UL, counts.Buckets.Where(b => b.Key == f.Payments).Aggregate(0UL, (n, b) => n + b.Count));
        Assert.Equal(1UL, counts.Buckets.Where(b => b.Key == f.Web).Aggregate(0UL, (n, b) => n + b.Count));
        Assert.DoesNotContain(counts.Buckets, b => b.Key == f.Agent);

        // fimctl's flags reach the request.
        var env = new Dictionary<string, string> { ["FIM_TOKEN"] = await f.Manager.Oidc.TokenAsync(OidcProvider.Admin) };
        var server = $"http://127.0.0.1:{f.Manager.GrpcPort}";
        async Task<(int Code, List<string> Paths, string Err)> Ctl(params string[] args)
        {
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            var code = await new Cli(stdout, stderr, name => env.GetValueOrDefault(name)).RunAsync([.. args, "--json", "--server", server]);
            var paths = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonDocument.Parse(l).RootElement).Select(a => $"{a.GetProperty("agentId").GetString()}:{a.GetProperty("path").GetString()}");
            return (code, [.. paths.Order(StringComparer.Ordinal)], stderr.ToString());
        }
        var (code, paths, err) = await Ctl("alerts", "--selector", "team=payments", "--package", "openssl", "--package-update", "false");
        Assert.True(code == Cli.Ok, err);
        Assert.Equal([$"{f.Payments}:/usr/bin/openssl"], paths);
        (code, paths, err) = await Ctl("alerts", "--selector", "team in (web)", "--package-update", "true");
        Assert.True(code == Cli.Ok, err);
        Assert.Equal([$"{f.Web}:/usr/lib/libssl.so.3"], paths);
        (code, _, err) = await Ctl("alerts", "--selector", "team in web");
        Assert.Equal(Cli.InvalidArgument, code);
        Assert.Contains("selector: 'team in web'", err);

        // Review by search with them: only the matching alerts change.
        var reviewed = await Grpc.ReviewAlertsAsync(new ReviewAlertsRequest
        {
            State = "expected",
            Comment = "openssl upgrade",
            Filter = new ListAlertsRequest { Selector = "team=web", PackageUpdate = true, Package = "openssl" },
        });
        Assert.Equal(1UL, reviewed.Changed);
        Assert.Equal(["web:/usr/lib/libssl.so.3"], await LabelledAsync(new ListAlertsRequest { ReviewState = "expected" }));
    }

    [Fact]
    public async Task Fimctl_searches_with_the_filters_and_pages_with_the_cursor()
    {
        var env = new Dictionary<string, string> { ["FIM_TOKEN"] = await f.Manager.Oidc.TokenAsync(OidcProvider.Admin) };
        var server = $"http://127.0.0.1:{f.Manager.GrpcPort}";
        async Task<(int Code, string Out, string Err)> Run(params string[] args)
        {
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            var code = await new Cli(stdout, stderr, name => env.GetValueOrDefault(name)).RunAsync(args);
            return (code, stdout.ToString(), stderr.ToString());
        }
        var (code, output, _) = await Run("alerts", "--agent", f.Agent, "--path-prefix", "/srv/sub/", "--json", "--server", server);
        Assert.Equal(Cli.Ok, code);
        Assert.Equal(2, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        (code, output, var err) = await Run("alerts", "--agent", f.Agent, "--limit", "5", "--json", "--server", server);
        Assert.Equal(5, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var cursor = err.Split("--cursor ")[1].TrimEnd(')', '\n', '\r');
        (code, output, _) = await Run("alerts", "--agent", f.Agent, "--limit", "5", "--cursor", cursor, "--json", "--server", server);
        Assert.Equal(f.Paths.Length - 5, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        (code, output, _) = await Run("alert-counts", "--agent", f.Agent, "--by", "agent", "--bucket", "1d", "--server", server);
        Assert.Equal(Cli.Ok, code);
        Assert.Contains(f.Agent, output);
    }
}
