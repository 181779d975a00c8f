using System.Net;
using System.Text.Json.Nodes;
using Fim.Contracts;
using Fim.Hostile.Tests.Support;
using Fim.Testing;

namespace Fim.Hostile.Tests;

/// <summary>One nats-server and one real manager for the input cases of issue 11 (case 10, manager part).</summary>
public sealed class ManagerFixture : IAsyncLifetime
{
    public NatsServer Server { get; private set; } = null!;
    public ManagerProcess Manager { get; private set; } = null!;
    public HostileNats Nats { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await NatsServer.StartAsync();
        Manager = await ManagerProcess.StartReadyAsync(Server.Url);
        Nats = await HostileNats.ConnectAsync(Server.Url);
    }

    public async Task DisposeAsync()
    {
        await Nats.DisposeAsync();
        await Manager.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// Issue 11, case 10 (manager): events without schemaVersion, with relative paths or control characters in ids were
/// turned into alerts; since=0001-01-01 gave HTTP 500; the history API refused paths the agent records; one unknown key
/// in a rule file hid the file's other errors.
/// </summary>
public sealed class ManagerInputTests(ManagerFixture f) : IClassFixture<ManagerFixture>
{
    public static TheoryData<string, string, string> HostileEvents => new()
    {
        { "no-schema-version", DeadLetter.UnknownSchema, "schemaVersion: is missing" },
        { "relative-path", DeadLetter.InvalidPath, "path: must be absolute" },
        { "nul-in-path", DeadLetter.InvalidPath, "NUL" },
        { "relative-path-bytes", DeadLetter.InvalidPath, "pathBase64: must be an absolute path" },
        { "escape-in-event-id", DeadLetter.InvalidId, "eventId: control character U+001B at position 5" },
        { "newline-in-host", DeadLetter.InvalidId, "host: control character U+000A" },
        { "carriage-return-in-policy", DeadLetter.InvalidId, "policy: control character U+000D" },
        { "long-host", DeadLetter.InvalidId, "host: 5000 characters" },
    };

    [Theory]
    [MemberData(nameof(HostileEvents))]
    public async Task A_hostile_event_is_dead_lettered_with_a_named_reason_not_turned_into_an_alert(string @case, string reason, string detail)
    {
        var agent = HostileNats.NewAgentId();
        var e = HostileNats.Event(agent);
        byte[]? raw = null;
        switch (@case)
        {
            case "no-schema-version":
                var node = JsonNode.Parse(HostileNats.Json(e))!.AsObject();
                node.Remove("schemaVersion");
                raw = System.Text.Encoding.UTF8.GetBytes(node.ToJsonString());
                break;
            case "relative-path":
                e.Path = "etc/passwd";
                break;
            case "nul-in-path":
                e.Path = "/etc/pass\0wd";
                break;
            case "relative-path-bytes":
                e.Path = "/etc/caf\\xe9";
                e.PathBase64 = Convert.ToBase64String("etc/caf\xe9"u8.ToArray());
                break;
            case "escape-in-event-id":
                e.EventId = "evil-\u001b[2J-1";
                break;
            case "newline-in-host":
                e.Host = "web-1\nbaseline recorded: 0 entries, all good";
                break;
            case "carriage-return-in-policy":
                e.Policy = "default/etc\r";
                break;
            case "long-host":
                e.Host = new string('h', 5000);
                break;
        }
        var payload = raw ?? HostileNats.Json(e);

        var seq = await f.Nats.PublishAsync(agent, payload);

        var copy = await PoisonEventTests.AwaitDeadLetterAsync(f.Nats, seq, reason);
        Assert.Contains(detail, copy.Header(DeadLetter.DetailHeader));
        Assert.Equal(payload, copy.Data);
        await Eventually.TrueAsync(() => f.Manager.LogLines(reason).Count > 0, () => $"no log line naming {reason}\n{f.Manager.Process.Output}");
        Assert.Empty(await f.Nats.AlertsAsync(agent));
    }

    [Fact]
    public async Task Control_characters_in_a_file_name_are_reported_not_dropped()
    {
        // A file name may hold them (the agent records what the file system has); an intruder's such file must alert.
        var agent = HostileNats.NewAgentId();
        var e = HostileNats.Event(agent, "/tmp/\u001b[2J\u001b[31mevil\rname\n");

        await f.Nats.PublishAsync(agent, HostileNats.Json(e));

        var alert = Assert.Single(await Eventually.CountAsync(() => f.Nats.AlertsAsync(agent), 1, "the alert of the oddly named file"));
        Assert.Equal(e.Path, alert.Path);
    }

    public static TheoryData<string, string> BadQueries => new()
    {
        { "/api/v1/alerts?since=0001-01-01T00:00:00Z", "since:" },
        { "/api/v1/alerts?until=0001-01-01T00:00:00Z", "until:" },
        { "/api/v1/alerts?since=9999-12-31T23:59:59Z", "since:" },
        { "/api/v1/alerts?since=1969-12-31T23:59:59Z", "since:" },
        { "/api/v1/alerts?since=2024-01-02T00:00:00Z&until=2024-01-01T00:00:00Z", "since:" },
        { "/api/v1/alerts?limit=0", "limit:" },
        { "/api/v1/alerts?limit=-5", "limit:" },
        { "/api/v1/alerts?limit=1001", "limit:" },
        { "/api/v1/alerts?min_level=16", "min_level:" },
        { "/api/v1/alerts?min_level=-1", "min_level:" },
        { "/api/v1/agents/node-1/history?path=/etc/passwd&since=0001-01-01T00:00:00Z", "since:" },
        { "/api/v1/agents/node-1/history?path=/etc/passwd&since=9999-12-31T23:59:59Z", "since:" },
        { "/api/v1/agents/node-1/history?path=/etc/passwd&limit=0", "limit:" },
        { "/api/v1/agents/node-1/history?path=etc/passwd", "path:" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task A_bad_time_or_number_query_parameter_is_a_400_naming_it(string url, string message)
    {
        using var response = await f.Manager.Http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)response.StatusCode} {body}");
        Assert.Contains(message, body);
    }

    [Theory]
    [InlineData("/api/v1/alerts?limit=abc")]
    [InlineData("/api/v1/alerts?limit=99999999999")]
    [InlineData("/api/v1/alerts?since=yesterday")]
    [InlineData("/api/v1/alerts?min_level=1.5")]
    public async Task An_unparsable_query_parameter_is_a_400_not_a_500(string url)
    {
        using var response = await f.Manager.Http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)response.StatusCode} {body}");
    }

    [Fact]
    public async Task History_accepts_paths_longer_than_4096_characters_up_to_the_event_limit()
    {
        var agent = HostileNats.NewAgentId();
        var longPath = "/srv/" + string.Join('/', Enumerable.Repeat(new string('d', 200), 40)); // 8,045 characters
        await f.Nats.PublishAsync(agent, HostileNats.Json(HostileNats.Event(agent, longPath)));
        await Eventually.CountAsync(() => f.Nats.AlertsAsync(agent), 1, "the long path's alert");

        // History reads the alert store, which the indexer fills a batch behind the stream.
        var body = "";
        await Eventually.TrueAsync(async () =>
        {
            using var found = await f.Manager.Http.GetAsync($"/api/v1/agents/{agent}/history?path={Uri.EscapeDataString(longPath)}");
            body = await found.Content.ReadAsStringAsync();
            Assert.True(found.IsSuccessStatusCode, $"{(int)found.StatusCode} {body}");
            return body.Contains(new string('d', 200), StringComparison.Ordinal);
        }, () => "the long path in its history: " + body);
        Assert.Contains("\"scanned\"", body);

        var tooLong = "/" + new string('x', EventLimits.MaxPathLength);
        using var refused = await f.Manager.Http.GetAsync($"/api/v1/agents/{agent}/history?path={tooLong}");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains($"path: must be at most {EventLimits.MaxPathLength} characters", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_rule_file_with_an_unknown_key_reports_all_its_errors_with_lines()
    {
        var dir = Directory.CreateTempSubdirectory("fim-hostile-rules-").FullName;
        var rules = Path.Combine(dir, "rules.yaml");
        await File.WriteAllTextAsync(rules, """
            rules:
              - id: "100001"
                levle: 5
              - id: "100002"
                level: 99
                kinds: [renamed]
            """);
        await using var manager = await ManagerProcess.StartAsync(f.Server.Url, new Dictionary<string, string> { ["Fim__Rules__Files__0"] = rules });

        var exit = await manager.Process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        var stderr = manager.Process.Stderr;
        Assert.Contains("levle", stderr);           // line 3: the unknown key
        Assert.Contains("must be 0..15, got 99", stderr); // line 5: hidden before
        Assert.Contains("renamed", stderr);         // line 6: hidden before
        Assert.Contains(":3", stderr);
        Assert.Contains(":5", stderr);
    }
}
