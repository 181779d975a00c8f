using System.Globalization;
using System.Text.RegularExpressions;
using CsvHelper;
using Fim.Contracts;
using Fim.Testing;
using Microsoft.Playwright;

namespace Fim.Console.Tests;

/// <summary>
/// The web console in Debian's chromium against a real manager, nats-server, agent and SQLite store. Every wait is for
/// a condition with a generous deadline (ConsoleStack.Deadline), never a sleep.
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleStack stack) : IClassFixture<ConsoleStack>
{
    private const string ScriptName = "<script>alert(1)</script>";

    [Fact]
    public async Task An_anonymous_browser_is_sent_to_the_login_from_every_console_page()
    {
        foreach (var path in new[] { "/console", "/console/alerts?minLevel=7", "/console/alert?id=x", "/console/audit", "/console/compliance", "/console/compliance.csv?from=1d", "/console/agents", "/console/overview", "/console/policies", "/console/maintenance" })
        {
            var page = await stack.NewPageAsync();
            await page.GotoAsync(path);
            await page.WaitForURLAsync(url => url.StartsWith(stack.Oidc.Issuer + "/interaction/", StringComparison.Ordinal));
            await Assertions.Expect(page.Locator("input[name=login]")).ToBeVisibleAsync();
            if (path == "/console")
            {
                await ConsoleStack.ScreenshotAsync(page, "login");
            }
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task An_analyst_sees_a_change_arrive_live_opens_it_with_its_diff_and_attributes_and_marks_it_expected()
    {
        var page = await stack.SignedInAsync(OidcProvider.AnalystLogin);
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        await Assertions.Expect(page.GetByTestId("who")).ToContainTextAsync($"{OidcProvider.AnalystLogin} (analyst)");
        await Assertions.Expect(page.GetByTestId("live-status")).ToContainTextAsync("Live");
        // Marks this document: a reload or a navigation would lose it.
        await page.EvaluateAsync("() => window.fimNoReload = 'still here'");

        await File.WriteAllTextAsync(Path.Combine(stack.Tree, ConsoleStack.WatchedFile), "listen 8080\nworkers 2\n");
        var row = page.Locator("tbody[data-testid=alert-rows] tr", new() { HasText = ConsoleStack.WatchedFile }).Filter(new() { HasText = "modified" });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        Assert.Equal("still here", await page.EvaluateAsync<string>("() => window.fimNoReload"));
        await ConsoleStack.ScreenshotAsync(page, "alerts-live");

        // A file named like a script shows as text and runs nothing (a slash cannot be in a name: a directory then a file).
        var scriptDirectory = Path.Combine(stack.Tree, "<script>alert(1)<");
        Directory.CreateDirectory(scriptDirectory);
        await File.WriteAllTextAsync(Path.Combine(scriptDirectory, "script>"), "x\n");
        var scriptRow = page.Locator("tbody[data-testid=alert-rows] tr", new() { HasText = ScriptName });
        await Assertions.Expect(scriptRow.First).ToBeVisibleAsync();
        var html = await scriptRow.First.InnerHTMLAsync();
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Equal(0, await page.Locator("tbody[data-testid=alert-rows] script").CountAsync());

        await row.GetByTestId("alert-link").ClickAsync();
        await page.WaitForURLAsync(new Regex("/console/alert\\?id="));
        await Assertions.Expect(page.GetByTestId("alert-path")).ToHaveTextAsync(Path.Combine(stack.Tree, ConsoleStack.WatchedFile));
        await Assertions.Expect(page.GetByTestId("diff")).ToContainTextAsync("+listen 8080");
        await Assertions.Expect(page.GetByTestId("diff")).ToContainTextAsync("-listen 80");
        await Assertions.Expect(page.GetByTestId("attributes")).ToContainTextAsync("sha256 (changed)");
        await Assertions.Expect(page.GetByTestId("history").Locator("tbody tr")).Not.ToHaveCountAsync(0);
        // Who-data: this test process wrote the file.
        await Assertions.Expect(page.GetByTestId("actor")).ToContainTextAsync($"(pid {Environment.ProcessId})");
        await Assertions.Expect(page.GetByTestId("review-state")).ToContainTextAsync("new");
        await ConsoleStack.ScreenshotAsync(page, "alert");

        await page.FillAsync("#review-comment-input", "planned change <b>CHG-7</b>");
        await page.GetByRole(AriaRole.Button, new() { Name = "Mark expected" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("review-state")).ToContainTextAsync($"expected by {OidcProvider.AnalystLogin}");
        await Assertions.Expect(page.GetByTestId("review-comment")).ToHaveTextAsync("planned change <b>CHG-7</b>");
        var stored = (await stack.StoredAlertsAsync(Path.Combine(stack.Tree, ConsoleStack.WatchedFile)))
            .Single(a => a.GetProperty("kind").GetString() == "modified");
        Assert.Equal("expected", stored.GetProperty("review").GetProperty("state").GetString());
        await ConsoleStack.ScreenshotAsync(page, "alert-reviewed");

        // The script-named file's own page: its path as text too.
        await page.GotoAsync("/console/alerts?pathGlob=" + Uri.EscapeDataString("*" + ScriptName));
        await page.Locator("tbody[data-testid=alert-rows] tr").First.GetByTestId("alert-link").ClickAsync();
        await Assertions.Expect(page.GetByTestId("alert-path")).ToHaveTextAsync(Path.Combine(scriptDirectory, "script>"));
        Assert.Empty(dialogs);
    }

    [Fact]
    public async Task A_viewer_sees_no_review_buttons_and_a_review_sent_with_its_session_is_refused()
    {
        var path = Path.Combine(stack.Tree, "viewer.conf");
        var alertId = await stack.WriteAndAwaitAlertAsync(path, "a\n");

        var page = await stack.SignedInAsync(OidcProvider.ViewerLogin, "/console/alert?id=" + Uri.EscapeDataString(alertId));
        await Assertions.Expect(page.GetByTestId("who")).ToContainTextAsync($"{OidcProvider.ViewerLogin} (viewer)");
        await Assertions.Expect(page.GetByTestId("review-state")).ToContainTextAsync("new");
        await Assertions.Expect(page.GetByTestId("review-actions")).ToHaveCountAsync(0);
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Mark expected" }).CountAsync());
        await ConsoleStack.ScreenshotAsync(page, "alert-viewer");

        // The same session straight at the API: refused on the server, and nothing changed.
        var direct = await page.Context.APIRequest.PostAsync("/api/v1/alerts/review", new APIRequestContextOptions
        {
            DataObject = new { state = "expected", alertIds = new[] { alertId } },
        });
        Assert.Equal(403, direct.Status);
        var stored = (await stack.StoredAlertsAsync(path))[0];
        Assert.False(stored.TryGetProperty("review", out var review) && review.GetProperty("state").GetString() == "expected");
    }

    [Fact]
    public async Task A_cross_site_page_can_neither_review_nor_sign_out_with_the_users_session()
    {
        var path = Path.Combine(stack.Tree, "csrf.conf");
        var alertId = await stack.WriteAndAwaitAlertAsync(path, "a\n");
        var page = await stack.SignedInAsync(OidcProvider.AnalystLogin);

        // Another site (Playwright serves it) makes the user's browser post a review (JSON smuggled in a text/plain
        // form) and a sign-out to the manager: top-level form posts, the classic CSRF.
        var field = System.Net.WebUtility.HtmlEncode("{\"state\":\"incident\",\"alertIds\":[\"" + alertId + "\"],\"x\":\"");
        string Attack(string form) => $"<!DOCTYPE html><html><body>{form}<script>document.forms[0].submit();</script></body></html>";
        var pages = new Dictionary<string, string>
        {
            ["http://attacker.test/review"] = Attack($"<form method=\"post\" enctype=\"text/plain\" action=\"{stack.BaseUrl}/api/v1/alerts/review\"><input name=\"{field}\" value='\"}}'></form>"),
            ["http://attacker.test/logout"] = Attack($"<form method=\"post\" action=\"{stack.BaseUrl}/logout\"></form>"),
        };
        await page.Context.RouteAsync("http://attacker.test/**", route => route.FulfillAsync(new() { ContentType = "text/html", Body = pages[route.Request.Url] }));
        // Top-level posts: here a frame or a fetch from another site to the loopback manager never reached it (chromium's local
        // network protection), which would prove nothing about the cookie.
        foreach (var (url, target) in new[] { ("http://attacker.test/review", "/api/v1/alerts/review"), ("http://attacker.test/logout", "/logout") })
        {
            var answer = page.WaitForResponseAsync(r => r.Url == stack.BaseUrl + target);
            await page.GotoAsync(url);
            // 401: the manager saw no session (with one, the review would be 200 or a 4xx about its body).
            Assert.Equal(401, (await answer).Status);
        }

        // Neither carried the session (SameSite=Lax): still signed in, and the alert is not reviewed.
        await page.GotoAsync("/console/alerts");
        await Assertions.Expect(page.GetByTestId("who")).ToContainTextAsync($"{OidcProvider.AnalystLogin} (analyst)");
        var stored = (await stack.StoredAlertsAsync(path))[0];
        Assert.False(stored.TryGetProperty("review", out _), stored.ToString());
    }

    [Fact]
    public async Task A_tampered_search_address_shows_a_readable_message_naming_the_parameter()
    {
        var page = await stack.SignedInAsync(OidcProvider.ViewerLogin, "/console/alerts?minLevel=abc");
        await Assertions.Expect(page.GetByTestId("search-error")).ToContainTextAsync("minLevel: 'abc' is not a whole number");
        await ConsoleStack.ScreenshotAsync(page, "alerts-bad-filter");
        foreach (var (query, message) in new[]
        {
            ("minLevel=9&maxLevel=3", "maxLevel: must not be below min_level"),
            ("pathGlob=" + Uri.EscapeDataString("/etc/\\"), "pathGlob: is not a valid glob"),
            ("since=yesterday", "since: 'yesterday' is not a time"),
            ("cursor=%00%01", "cursor:"),
            ("agentId=" + Uri.EscapeDataString("<b>x</b>"), "agentId: must match"),
            ("packageUpdate=maybe", "packageUpdate: 'maybe' is not true or false"),
            ("selector=" + Uri.EscapeDataString("env in (prod"), "selector:"),
        })
        {
            await page.GotoAsync("/console/alerts?" + query);
            await Assertions.Expect(page.GetByTestId("search-error")).ToContainTextAsync(message);
            var text = await page.InnerTextAsync("body");
            Assert.DoesNotContain("Exception", text);
            Assert.DoesNotContain("   at ", text);
        }
        await page.GotoAsync("/console/alert?id=no-such-alert");
        await Assertions.Expect(page.GetByTestId("alert-missing")).ToContainTextAsync("no stored alert you may see has this id");
    }

    [Fact]
    public async Task A_review_is_found_in_the_audit_log_and_the_compliance_report_and_the_report_exports_as_csv()
    {
        var path = Path.Combine(stack.Tree, "trail.conf");
        var alertId = await stack.WriteAndAwaitAlertAsync(path, "a\n");

        // The admin reviews it from the console.
        var page = await stack.SignedInAsync(OidcProvider.AccountLogin, "/console/alert?id=" + Uri.EscapeDataString(alertId));
        await page.FillAsync("#review-comment-input", "trail check");
        await page.GetByRole(AriaRole.Button, new() { Name = "Mark expected" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("review-state")).ToContainTextAsync($"expected by {OidcProvider.AccountLogin}");

        // The audit log has the review, by whom and how they signed in, and its chain verifies.
        await page.GetByRole(AriaRole.Link, new() { Name = "Audit log" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/console/audit"));
        await page.FillAsync("#a-action", "ReviewAlerts");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        var reviewRow = page.Locator("tbody[data-testid=audit-rows] tr", new() { HasText = alertId }).Filter(new() { HasText = "ok" });
        await Assertions.Expect(reviewRow).ToHaveCountAsync(1);
        await Assertions.Expect(reviewRow).ToContainTextAsync(OidcProvider.AccountLogin);
        await Assertions.Expect(reviewRow).ToContainTextAsync("oidc-session");
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify the chain" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("audit-verify")).ToContainTextAsync("Intact");
        await ConsoleStack.ScreenshotAsync(page, "audit");

        // The compliance report counts it among the agent's expected changes, on the page and in the CSV.
        await page.GetByRole(AriaRole.Link, new() { Name = "Compliance" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/console/compliance"));
        var agentRow = page.Locator($"tbody[data-testid=compliance-rows] tr[data-agent-id={ConsoleStack.AgentId}]");
        await Assertions.Expect(agentRow).ToHaveCountAsync(1);
        var states = (await agentRow.GetByTestId("review-states").InnerTextAsync()).Split('/').Select(s => long.Parse(s.Trim(), CultureInfo.InvariantCulture)).ToArray();
        Assert.True(states[1] >= 1, $"expected reviews: {string.Join(" / ", states)}");
        await ConsoleStack.ScreenshotAsync(page, "compliance");
        await page.EmulateMediaAsync(new() { Media = Media.Print });
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Report" })).Not.ToBeVisibleAsync();
        await Assertions.Expect(agentRow).ToBeVisibleAsync();
        await ConsoleStack.ScreenshotAsync(page, "compliance-print");
        await page.EmulateMediaAsync(new() { Media = Media.Screen });

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("compliance-csv").ClickAsync());
        Assert.EndsWith(".csv", download.SuggestedFilename, StringComparison.Ordinal);
        using (var reader = new CsvReader(new StreamReader((await download.PathAsync())!), CultureInfo.InvariantCulture))
        {
            var rows = reader.GetRecords<dynamic>().Cast<IDictionary<string, object>>().ToList();
            var row = rows.Single(r => (string)r["agent_id"] == ConsoleStack.AgentId);
            Assert.Equal(states[1], long.Parse((string)row["review_expected"], CultureInfo.InvariantCulture));
        }

        // A tampered report address: a readable message naming the parameter, on the page and from the download.
        await page.GotoAsync("/console/compliance?from=yesterday");
        await Assertions.Expect(page.GetByTestId("compliance-error")).ToContainTextAsync("from: 'yesterday' is not a time");
        var bad = await page.Context.APIRequest.GetAsync("/console/compliance.csv?minLevel=99");
        Assert.Equal(400, bad.Status);
        Assert.Contains("minLevel: must be 0..15", await bad.TextAsync());
    }

    [Fact]
    public async Task The_audit_log_is_not_shown_to_an_analyst()
    {
        var page = await stack.SignedInAsync(OidcProvider.AnalystLogin, "/console/audit");
        await Assertions.Expect(page.GetByTestId("audit-refused")).ToContainTextAsync("needs an admin role");
        Assert.Equal(0, await page.Locator("tbody[data-testid=audit-rows]").CountAsync());
        Assert.Equal(0, await page.GetByRole(AriaRole.Link, new() { Name = "Audit log" }).CountAsync());
    }

    [Fact]
    public async Task The_agents_page_shows_each_agents_state_and_an_admin_scans_one_now()
    {
        var page = await stack.SignedInAsync(OidcProvider.AccountLogin, "/console/agents");
        var row = page.Locator($"tbody[data-testid=agent-rows] tr[data-agent-id={ConsoleStack.AgentId}]");
        await Assertions.Expect(row).ToContainTextAsync("active");
        await Assertions.Expect(row).ToContainTextAsync("role=web");
        await Assertions.Expect(row.GetByTestId("policies")).ToContainTextAsync("console (0)");
        await Assertions.Expect(row.GetByTestId("last-scan")).Not.ToContainTextAsync("none yet");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Scan {ConsoleStack.AgentId} now" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("scan-result")).ToContainTextAsync($"{ConsoleStack.AgentId} scanned");
        await ConsoleStack.ScreenshotAsync(page, "agents");

        await page.GotoAsync("/console/agents?status=bogus");
        await Assertions.Expect(page.GetByTestId("agents-error")).ToContainTextAsync("status: 'bogus' is not one of");

        // An analyst sees the agents but has no scan button.
        var analyst = await stack.SignedInAsync(OidcProvider.AnalystLogin, "/console/agents");
        await Assertions.Expect(analyst.Locator($"tbody[data-testid=agent-rows] tr[data-agent-id={ConsoleStack.AgentId}]")).ToContainTextAsync("active");
        Assert.Equal(0, await analyst.GetByRole(AriaRole.Button, new() { Name = $"Scan {ConsoleStack.AgentId} now" }).CountAsync());
    }

    [Fact]
    public async Task The_overview_shows_alerts_by_hour_the_fleet_who_data_and_the_pipeline()
    {
        var path = Path.Combine(stack.Tree, "overview.conf");
        await stack.WriteAndAwaitAlertAsync(path, "a\n");

        var page = await stack.SignedInAsync(OidcProvider.ViewerLogin, "/console");
        await page.WaitForURLAsync(new Regex("/console/overview$"));
        await Assertions.Expect(page.GetByTestId("fleet")).ToContainTextAsync("1 active");
        await Assertions.Expect(page.GetByTestId("who-data")).ToContainTextAsync("fanotify-ebpf: 1");
        await Assertions.Expect(page.GetByTestId("applied-policies")).ToContainTextAsync("console");
        await Assertions.Expect(page.GetByTestId("pipeline")).ToContainTextAsync("events waiting");
        await Assertions.Expect(page.GetByTestId("top-agents")).ToContainTextAsync(ConsoleStack.AgentId);
        await Assertions.Expect(page.GetByTestId("top-paths")).ToContainTextAsync(path);
        // The chart is drawn (SVG) and described in words for screen readers.
        await Assertions.Expect(page.GetByTestId("alerts-chart").Locator("svg").First).ToBeVisibleAsync();
        var summary = await page.GetByTestId("alerts-chart").GetAttributeAsync("aria-label");
        Assert.Matches(new Regex(@"Alerts in the last 24 hours: \d+ of level 0-6, \d+ of level 7-11, \d+ of level 12-15"), summary);
        Assert.DoesNotMatch(new Regex(@"^Alerts in the last 24 hours: 0 of level 0-6, 0 of level 7-11, 0 of level 12-15"), summary);
        await ConsoleStack.ScreenshotAsync(page, "overview");

        // The page's server time is measured (bench/ reads it): the overview counted in the manager's histogram.
        using var http = new HttpClient { BaseAddress = new Uri(stack.BaseUrl) };
        var metrics = await http.GetStringAsync("/metrics");
        var count = Regex.Match(metrics, @"^fim_console_page_seconds_count\{page=""Overview""\} (\d+)", RegexOptions.Multiline);
        Assert.True(count.Success && int.Parse(count.Groups[1].Value, CultureInfo.InvariantCulture) >= 1, "fim_console_page_seconds of Overview in:\n" + metrics);
    }

    [Fact]
    public async Task The_policies_page_shows_published_local_and_unreadable_policies_with_how_many_agents_run_them()
    {
        // What the operator would publish: one policy for other agents (role=db), and a value no reader understands.
        await using (var nats = await NatsTestClient.ConnectAsync(stack.Nats.Url))
        {
            var kv = await new NATS.Client.KeyValueStore.NatsKVContext(nats.Js).GetStoreAsync(Subjects.PoliciesBucket);
            var db = new PolicyDocument
            {
                Revision = 3,
                Name = "team-a/db",
                Selector = new LabelSelector { MatchLabels = new Dictionary<string, string> { ["role"] = "db" } },
                Spec = System.Text.Json.JsonDocument.Parse("{\"paths\":[{\"path\":\"/var/lib/db-console-test\"}]}").RootElement,
            };
            await kv.PutAsync("team-a.db", ContractJson.ToUtf8(db), serializer: NATS.Client.Core.NatsRawSerializer<byte[]>.Default);
            await kv.PutAsync("team-a.broken", "not json <b>"u8.ToArray(), serializer: NATS.Client.Core.NatsRawSerializer<byte[]>.Default);
        }

        var page = await stack.SignedInAsync(OidcProvider.ViewerLogin, "/console/policies");
        var local = page.Locator("tbody[data-testid=policy-rows] tr[data-policy=console]");
        await Assertions.Expect(local).ToContainTextAsync("local file");
        await Assertions.Expect(local).ToContainTextAsync("1 of 1");
        var published = page.Locator("tbody[data-testid=policy-rows] tr[data-policy='team-a/db']");
        await Assertions.Expect(published).ToContainTextAsync("role=db");
        await Assertions.Expect(published).ToContainTextAsync("0 of 0");
        Assert.Equal("3", (await published.Locator("td").Nth(1).InnerTextAsync()).Trim());
        var broken = page.Locator("tbody[data-testid=policy-rows] tr[data-policy='team-a.broken']");
        await Assertions.Expect(broken).ToContainTextAsync("unreadable document: the value is not valid JSON");
        Assert.Equal(0, await page.Locator("tbody[data-testid=policy-rows] b").CountAsync());
        await ConsoleStack.ScreenshotAsync(page, "policies");
    }

    [Fact]
    public async Task An_analyst_opens_and_ends_a_maintenance_window_and_a_viewer_cannot()
    {
        var page = await stack.SignedInAsync(OidcProvider.AnalystLogin, "/console/maintenance");
        // Bad input is named, and nothing is opened.
        await page.FillAsync("#m-reason", "kernel patch");
        await page.FillAsync("#m-duration", "soon");
        await page.GetByRole(AriaRole.Button, new() { Name = "Open window" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("maintenance-result")).ToContainTextAsync("Not opened: duration:");
        await page.FillAsync("#m-duration", "2h");
        await page.FillAsync("#m-labels", "role");
        await page.GetByRole(AriaRole.Button, new() { Name = "Open window" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("maintenance-result")).ToContainTextAsync("match_labels: 'role' is not key=value");
        Assert.Equal(0, await page.Locator("tbody[data-testid=window-rows] tr").CountAsync());

        await page.FillAsync("#m-labels", "role=web");
        await page.GetByRole(AriaRole.Button, new() { Name = "Open window" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("maintenance-result")).ToContainTextAsync("Opened mw-");
        var row = page.Locator("tbody[data-testid=window-rows] tr", new() { HasText = "kernel patch" });
        await Assertions.Expect(row).ToContainTextAsync("role=web");
        await Assertions.Expect(row).ToContainTextAsync("open");
        await Assertions.Expect(row).ToContainTextAsync(OidcProvider.AnalystLogin);
        var windowId = await row.GetAttributeAsync("data-window-id");
        await ConsoleStack.ScreenshotAsync(page, "maintenance");

        // A viewer sees it, without the form or an End button.
        var viewer = await stack.SignedInAsync(OidcProvider.ViewerLogin, "/console/maintenance");
        await Assertions.Expect(viewer.Locator($"tbody[data-testid=window-rows] tr[data-window-id={windowId}]")).ToContainTextAsync("open");
        Assert.Equal(0, await viewer.Locator("#m-reason").CountAsync());
        Assert.Equal(0, await viewer.GetByRole(AriaRole.Button, new() { Name = $"End {windowId}" }).CountAsync());

        await page.GetByRole(AriaRole.Button, new() { Name = $"End {windowId}" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("maintenance-result")).ToContainTextAsync($"Ended {windowId}");
        await page.GotoAsync("/console/maintenance?closed=true");
        await Assertions.Expect(page.Locator($"tbody[data-testid=window-rows] tr[data-window-id={windowId}]")).ToContainTextAsync($"ended by {OidcProvider.AnalystLogin}");
    }

    [Fact]
    public async Task An_analyst_reviews_the_selected_alerts_of_a_filtered_search_in_one_go()
    {
        var paths = Enumerable.Range(1, 3).Select(i => Path.Combine(stack.Tree, $"bulk-{i}.conf")).ToList();
        foreach (var path in paths)
        {
            await File.WriteAllTextAsync(path, "x\n");
        }
        var search = "/console/alerts?kind=added&pathPrefix=" + Uri.EscapeDataString(Path.Combine(stack.Tree, "bulk-"));
        var page = await stack.SignedInAsync(OidcProvider.AnalystLogin, search);
        var rows = page.Locator("tbody[data-testid=alert-rows] tr");
        await Assertions.Expect(rows).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#f-path")).ToHaveValueAsync(Path.Combine(stack.Tree, "bulk-"));

        await page.GetByLabel("Select every alert on this page").CheckAsync();
        await Assertions.Expect(page.GetByTestId("bulk-review")).ToContainTextAsync("3 selected");
        await page.GetByLabel($"Select the alert on {paths[0]}").UncheckAsync();
        await Assertions.Expect(page.GetByTestId("bulk-review")).ToContainTextAsync("2 selected");
        await page.FillAsync("#bulk-comment", "test fixtures");
        await page.GetByRole(AriaRole.Button, new() { Name = "Mark selected false positive" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("bulk-result")).ToContainTextAsync("2 of 2 alerts marked false_positive");
        await Assertions.Expect(rows.Filter(new() { HasText = "false_positive" })).ToHaveCountAsync(2);
        await ConsoleStack.ScreenshotAsync(page, "alerts-bulk-review");

        var states = new List<string>();
        foreach (var path in paths)
        {
            var stored = (await stack.StoredAlertsAsync(path)).Single(a => a.GetProperty("kind").GetString() == "added");
            states.Add(stored.TryGetProperty("review", out var review) ? review.GetProperty("state").GetString()! : "new");
        }
        Assert.Equal(["new", "false_positive", "false_positive"], states);

        // A viewer gets no selection boxes.
        var viewer = await stack.SignedInAsync(OidcProvider.ViewerLogin, search);
        await Assertions.Expect(viewer.Locator("tbody[data-testid=alert-rows] tr")).ToHaveCountAsync(3);
        Assert.Equal(0, await viewer.Locator("tbody[data-testid=alert-rows] input[type=checkbox]").CountAsync());
    }

    [Fact]
    public async Task An_admin_removes_a_disconnected_agent_and_keeps_its_alerts()
    {
        const string gone = "gone-agent";
        await using (var nats = await NatsTestClient.ConnectAsync(stack.Nats.Url))
        {
            await nats.PutHeartbeatAsync(gone, new Dictionary<string, string> { ["role"] = "web" });
        }
        var page = await stack.SignedInAsync(OidcProvider.AccountLogin, "/console/agents?status=disconnected");
        var row = page.Locator($"tbody[data-testid=agent-rows] tr[data-agent-id={gone}]");
        // It goes quiet: disconnected after the manager's DisconnectedAfter (20 s here).
        await Eventually.TrueAsync(async () =>
        {
            await page.ReloadAsync();
            return await row.CountAsync() == 1;
        }, () => $"{gone} disconnected\n" + stack.Logs, ConsoleStack.Deadline);
        // No remove button for the active agent, and none for an analyst.
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = $"Remove {ConsoleStack.AgentId}" }).CountAsync());
        var analyst = await stack.SignedInAsync(OidcProvider.AnalystLogin, "/console/agents?status=disconnected");
        await Assertions.Expect(analyst.Locator($"tbody[data-testid=agent-rows] tr[data-agent-id={gone}]")).ToHaveCountAsync(1);
        Assert.Equal(0, await analyst.GetByRole(AriaRole.Button, new() { Name = $"Remove {gone}" }).CountAsync());

        await page.GetByRole(AriaRole.Button, new() { Name = $"Remove {gone}" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("scan-result")).ToContainTextAsync($"{gone} removed");
        await Assertions.Expect(row).ToHaveCountAsync(0);
        await page.GotoAsync("/console/agents?status=removed");
        await Assertions.Expect(page.Locator($"tbody[data-testid=agent-rows] tr[data-agent-id={gone}]")).ToContainTextAsync("removed");
    }

    [Fact]
    public async Task Every_page_labels_its_controls_for_screen_readers_and_an_alert_opens_by_keyboard()
    {
        var path = Path.Combine(stack.Tree, "keyboard.conf");
        var alertId = await stack.WriteAndAwaitAlertAsync(path, "k\n");

        // The admin sees every page and every control an admin has.
        var page = await stack.SignedInAsync(OidcProvider.AccountLogin, "/console/overview");
        foreach (var (url, heading) in new[]
        {
            ("/console/overview", "Overview"), ("/console/alerts", "Alerts"), ("/console/alert?id=" + Uri.EscapeDataString(alertId), "Level "),
            ("/console/agents", "Agents"), ("/console/policies", "Policies"), ("/console/maintenance", "Maintenance windows"),
            ("/console/compliance", "Compliance report"), ("/console/audit", "Audit log"),
        })
        {
            await page.GotoAsync(url);
            await Assertions.Expect(page.Locator("h1")).ToContainTextAsync(heading);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            // Every form control and button has a name a screen reader can say: a label, aria-label(ledby) or its text.
            var unnamed = await page.EvaluateAsync<string[]>(@"() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href]')]
                .filter(e => e.offsetParent !== null)
                .filter(e => !((e.labels && e.labels.length) || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || e.textContent.trim() || e.title))
                .map(e => e.outerHTML.slice(0, 120))");
            Assert.True(unnamed.Length == 0, $"{url}: controls without an accessible name:\n{string.Join('\n', unnamed)}");
            // Tables say what their columns are.
            Assert.Equal(0, await page.Locator("table:not(:has(th))").CountAsync());
        }

        // Keyboard only: Tab from the top of the alerts page reaches this alert's link; Enter opens it.
        // One row: a new file may also give a "modified" alert when its write is seen apart from its creation.
        await page.GotoAsync("/console/alerts?kind=added&path=" + Uri.EscapeDataString(path));
        await Assertions.Expect(page.GetByTestId("alert-link")).ToHaveCountAsync(1);
        var reached = false;
        for (var i = 0; i < 80 && !reached; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            reached = await page.EvaluateAsync<bool>("() => document.activeElement?.dataset?.testid === 'alert-link'");
        }
        Assert.True(reached, "Tab never reached the alert link");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(new Regex("/console/alert\\?id="));
        await Assertions.Expect(page.GetByTestId("alert-path")).ToHaveTextAsync(path);
    }

    [Fact]
    public async Task A_Falco_event_posted_to_the_ingest_endpoint_is_found_with_the_source_filter_and_shows_its_record()
    {
        using (var falco = new HttpClient(stack.Oidc.BearerHandler(OidcProvider.Analyst)) { BaseAddress = new Uri(stack.BaseUrl) })
        {
            var line = SecuritySamples.At(SecuritySamples.FalcoShell, DateTimeOffset.UtcNow);
            var posted = await falco.PostAsync("/api/v1/ingest/falco", new StringContent(line, System.Text.Encoding.UTF8, "application/json"));
            Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());
        }
        var page = await stack.SignedInAsync(OidcProvider.ViewerLogin, "/console/alerts?source=falco");
        var rows = page.Locator("tbody[data-testid=alert-rows] tr");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows).ToContainTextAsync("security");
        await Assertions.Expect(page.Locator("#f-source")).ToHaveValueAsync("falco");
        await page.GetByTestId("alert-link").ClickAsync();
        await page.WaitForURLAsync(new Regex("/console/alert\\?id="));
        await Assertions.Expect(page.GetByTestId("alert-record")).ToContainTextAsync("Terminal shell in container");
        await Assertions.Expect(page.GetByTestId("alert-record")).ToContainTextAsync("output_fields.proc.name = bash");
        await ConsoleStack.ScreenshotAsync(page, "alert-falco-record");
    }
}
