using System.CommandLine;
using System.Globalization;
using Fim.Api.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Fim.Ctl;

/// <summary>fimctl's commands. Output goes to the given writers so tests can run it in-process.</summary>
public sealed partial class Cli(TextWriter stdout, TextWriter stderr, Func<string, string?> environment)
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int InvalidArgument = 2;
    public const int NotFound = 3;
    public const int Unavailable = 4;
    public const int Unauthenticated = 5;
    public const int PermissionDenied = 6;
    public const string DefaultServer = "http://127.0.0.1:8081";

    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithIndentation(""));

    private readonly Option<string?> _server = new("--server", "-s")
    {
        Description = $"Manager gRPC address (env FIM_SERVER; default {DefaultServer}). http:// speaks HTTP/2 cleartext, https:// TLS.",
        Recursive = true,
    };

    private readonly Option<string?> _caFile = new("--ca-file") { Description = "PEM CA to trust for an https:// server (env FIM_CA_FILE).", Recursive = true };
    private readonly Option<string?> _token = new("--token")
    {
        Description = "Bearer token: an OIDC access token or an API token (fimt_...). Prefer FIM_TOKEN or --token-file: arguments show in ps.",
        Recursive = true,
    };

    private readonly Option<string?> _tokenFile = new("--token-file")
    {
        Description = "File holding the token, mode 0600 (env FIM_TOKEN_FILE; default ~/.config/fim/token when it exists).",
        Recursive = true,
    };

    private readonly Option<bool> _json = new("--json") { Description = "JSON output, one object per line.", Recursive = true };

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand("fimctl: query FimOperator managers (agents, alerts, file history) and ask agents to scan.")
        {
            AgentsCommand(),
            AgentCommand(),
            AlertsCommand(),
            AlertCountsCommand(),
            HistoryCommand(),
            ScanCommand(),
            JoinTokenCommand(),
            IdentityCommand(),
            TokenCommand(),
            MaintenanceCommand(),
            QueryCommand(),
            AuditCommand(),
            ScansCommand(),
            ReportCommand(),
        };
        root.Add(_server);
        root.Add(_caFile);
        root.Add(_token);
        root.Add(_tokenFile);
        root.Add(_json);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"error: {E(error.Message)}");
            }
            await stderr.WriteLineAsync("Run 'fimctl --help' for usage.");
            return InvalidArgument;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false },
                cancellationToken);
        }
        catch (RpcException e)
        {
            await stderr.WriteLineAsync($"error: {e.StatusCode}: {E(e.Status.Detail)}");
            if (e.StatusCode == StatusCode.Unauthenticated)
            {
                await stderr.WriteLineAsync("the manager wants a valid token: --token, FIM_TOKEN or --token-file (see docs/security.md)");
            }
            return e.StatusCode switch
            {
                StatusCode.Unauthenticated => Unauthenticated,
                StatusCode.PermissionDenied => PermissionDenied,
                StatusCode.InvalidArgument => InvalidArgument,
                StatusCode.NotFound => NotFound,
                StatusCode.Unavailable or StatusCode.DeadlineExceeded => Unavailable,
                _ => Failed,
            };
        }
        catch (UsageException e)
        {
            await stderr.WriteLineAsync($"error: {E(e.Message)}");
            return InvalidArgument;
        }
    }

    private Command AgentsCommand()
    {
        var status = new Option<string?>("--status") { Description = "active, disconnected, removed or all (default: active and disconnected)." };
        var command = new Command("agents", "List the agents that sent a heartbeat, with their status; 'agents prune' removes disconnected ones.") { status, PruneCommand() };
        command.SetAction(async (parse, ct) =>
        {
            using var channel = Channel(parse);
            var response = await new FimManager.FimManagerClient(channel).ListAgentsAsync(new ListAgentsRequest { Status = parse.GetValue(status) ?? "" }, cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                foreach (var a in response.Agents)
                {
                    await stdout.WriteLineAsync(Json.Format(a));
                }
                return Ok;
            }
            await stdout.WriteLineAsync($"{"AGENT",-28} {"HOST",-28} {"VERSION",-10} {"STATUS",-12} {"LAST SEEN",-20} {"POLICIES",-30} LABELS");
            foreach (var a in response.Agents)
            {
                await stdout.WriteLineAsync($"{E(a.AgentId),-28} {E(a.Host),-28} {E(a.Version),-10} {E(a.Status),-12} {Time(a.LastSeen),-20} {Policies(a),-30} {Labels(a)}");
            }
            return Ok;
        });
        return command;
    }

    private Command AgentCommand()
    {
        var id = new Argument<string>("agent") { Description = "Agent id." };
        var command = new Command("agent", "Show one agent and its last heartbeat.") { id };
        command.SetAction(async (parse, ct) =>
        {
            using var channel = Channel(parse);
            var a = await new FimManager.FimManagerClient(channel).GetAgentAsync(new GetAgentRequest { AgentId = parse.GetValue(id)! }, cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                await stdout.WriteLineAsync(Json.Format(a));
                return Ok;
            }
            await stdout.WriteLineAsync($"agent:     {E(a.AgentId)}\nhost:      {E(a.Host)}\nversion:   {E(a.Version)}\nstatus:    {E(a.Status)}{(a.RemovedAt is null ? "" : $" at {Time(a.RemovedAt)} by {E(a.RemovedBy)}")}\nlast seen: {Time(a.LastSeen)}\nlabels:    {Labels(a)}\npolicies:  {Policies(a)}\nlast scan: {Scan(a.LastScan)}\nheartbeat: {Fim.Contracts.Text.TerminalText.Escape(a.HeartbeatJson)}");
            return Ok;
        });
        return command;
    }

    private Command AlertsCommand()
    {
        var filters = new AlertFilterOptions();
        var limit = new Option<int?>("--limit", "-n") { Description = "At most this many alerts (1-1000, default 100)." };
        var cursor = new Option<string?>("--cursor") { Description = "Continue after the previous page (the cursor it printed)." };
        var command = new Command("alerts", "Search stored alerts, newest first; 'alerts review' sets their review state.") { limit, cursor, ReviewCommand() };
        filters.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var request = filters.Request(parse, DateTimeOffset.UtcNow);
            if (parse.GetValue(limit) is { } n)
            {
                request.Limit = n;
            }
            request.Cursor = parse.GetValue(cursor) ?? "";
            using var channel = Channel(parse);
            var response = await new FimManager.FimManagerClient(channel).ListAlertsAsync(request, cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                foreach (var a in response.Alerts)
                {
                    await stdout.WriteLineAsync(a.Json);
                }
            }
            else
            {
                await stdout.WriteLineAsync($"{"TIME",-20} {"LVL",3} {"RULE",-7} {"AGENT",-24} {"KIND",-12} {"REVIEW",-14} PATH");
                foreach (var a in response.Alerts)
                {
                    await stdout.WriteLineAsync($"{Time(a.ObservedAt),-20} {a.Level,3} {E(a.RuleId),-7} {E(a.AgentId),-24} {E(a.Kind),-12} {E(a.Review?.State ?? "new"),-14} {E(a.Path)}");
                }
            }
            if (response.Truncated)
            {
                await stderr.WriteLineAsync($"(more alerts match: next page with --cursor {response.NextCursor})");
            }
            return Ok;
        });
        return command;
    }

    private Command AlertCountsCommand()
    {
        var filters = new AlertFilterOptions();
        var by = new Option<string>("--by") { Description = "Group by level, rule, agent or namespace.", DefaultValueFactory = _ => "level" };
        var bucket = new Option<string?>("--bucket") { Description = "Bucket width: 1m..30d (e.g. 1h, 1d). Default 1h." };
        var command = new Command("alert-counts", "Count stored alerts per time bucket and level, rule, agent or namespace.") { by, bucket };
        filters.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var request = new CountAlertsOverTimeRequest { Filter = filters.Request(parse, DateTimeOffset.UtcNow), GroupBy = parse.GetValue(by) ?? "level" };
            if (parse.GetValue(bucket) is { } b)
            {
                var now = DateTimeOffset.UtcNow;
                request.BucketSeconds = (long)(now - ParseTime(b, now, "--bucket")).TotalSeconds;
            }
            using var channel = Channel(parse);
            var response = await new FimManager.FimManagerClient(channel).CountAlertsOverTimeAsync(request, cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                await stdout.WriteLineAsync(Google.Protobuf.JsonFormatter.Default.Format(response));
            }
            else
            {
                await stdout.WriteLineAsync($"{"BUCKET",-20} {"COUNT",8} KEY");
                foreach (var c in response.Buckets)
                {
                    await stdout.WriteLineAsync($"{Time(c.Start),-20} {c.Count,8} {E(c.Key)}");
                }
            }
            if (response.Truncated)
            {
                await stderr.WriteLineAsync("(counted within the scan budget: a lower bound)");
            }
            return Ok;
        });
        return command;
    }

    private Command HistoryCommand()
    {
        var agent = new Argument<string>("agent") { Description = "Agent id." };
        var path = new Argument<string>("path") { Description = "Path as events show it." };
        var limit = new Option<int?>("--limit", "-n") { Description = "At most this many events (1-1000, default 100)." };
        var cursor = new Option<string?>("--cursor") { Description = "Continue after the previous page (the cursor it printed)." };
        var command = new Command("history", "Show the recorded changes of one path on one agent, oldest first (all agents: alerts --path).") { agent, path, limit, cursor };
        command.SetAction(async (parse, ct) =>
        {
            var request = new GetFileHistoryRequest { AgentId = parse.GetValue(agent)!, Path = parse.GetValue(path)!, Cursor = parse.GetValue(cursor) ?? "" };
            if (parse.GetValue(limit) is { } n)
            {
                request.Limit = n;
            }
            using var channel = Channel(parse);
            var response = await new FimManager.FimManagerClient(channel).GetFileHistoryAsync(request, cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                foreach (var e in response.Events)
                {
                    await stdout.WriteLineAsync(e.Json);
                }
            }
            else
            {
                await stdout.WriteLineAsync($"{"TIME",-20} {"KIND",-12} {"SOURCE",-8} CHANGED");
                foreach (var e in response.Events)
                {
                    await stdout.WriteLineAsync($"{Time(e.ObservedAt),-20} {E(e.Kind),-12} {E(e.Source),-8} {E(string.Join(",", e.Changed))}");
                }
            }
            if (response.Truncated)
            {
                await stderr.WriteLineAsync($"(more changes: next page with --cursor {response.NextCursor})");
            }
            return Ok;
        });
        return command;
    }

    private Command ScanCommand()
    {
        var agent = new Argument<string>("agent") { Description = "Agent id." };
        var command = new Command("scan", "Ask an agent to scan now.") { agent };
        command.SetAction(async (parse, ct) =>
        {
            using var channel = Channel(parse);
            var response = await new FimManager.FimManagerClient(channel).TriggerScanAsync(new TriggerScanRequest { AgentId = parse.GetValue(agent)! },
                cancellationToken: ct);
            // The reply is the agent's own text: valid JSON holds no raw control character, a hostile agent's reply might.
            var reply = Fim.Contracts.Text.TerminalText.Escape(response.ResponseJson);
            await stdout.WriteLineAsync(parse.GetValue(_json) ? reply
                : $"{(response.Ok ? "ok" : "refused")}{(response.Joined ? " (joined a scan already requested)" : "")}: {reply}");
            return response.Ok ? Ok : Failed;
        });
        return command;
    }

    private Command TokenCommand()
    {
        var name = new Option<string>("--name") { Description = "What the token is for.", Required = true };
        var role = new Option<string>("--role") { Description = "ingest (posts security events only), viewer, analyst or admin.", Required = true };
        var ttl = new Option<string?>("--ttl") { Description = "Lifetime as an age (30d, 12h); default the manager's (30 days)." };
        var labels = new Option<string[]>("--label") { Description = "Limit to agents with this label (key=value); repeatable." };
        var namespaces = new Option<string[]>("--namespace") { Description = "Limit to policies of this Kubernetes namespace; repeatable." };
        var create = new Command("create", "Create an API token; the token is printed once and never again.") { name, role, ttl, labels, namespaces };
        create.SetAction(async (parse, ct) =>
        {
            var request = new CreateApiTokenRequest { Name = parse.GetValue(name)!, Role = parse.GetValue(role)! };
            if (parse.GetValue(ttl) is { } age)
            {
                var now = DateTimeOffset.UtcNow;
                request.TtlSeconds = (long)(now - ParseTime(age, now, "--ttl")).TotalSeconds;
            }
            foreach (var label in parse.GetValue(labels) ?? [])
            {
                var eq = label.IndexOf('=');
                if (eq <= 0)
                {
                    throw new UsageException($"--label: '{label}' is not key=value");
                }
                request.MatchLabels[label[..eq]] = label[(eq + 1)..];
            }
            request.Namespaces.Add(parse.GetValue(namespaces) ?? []);
            using var channel = Channel(parse);
            var response = await new FimManager.FimManagerClient(channel).CreateApiTokenAsync(request, cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                await stdout.WriteLineAsync(Json.Format(response));
                return Ok;
            }
            await stdout.WriteLineAsync(response.Secret);
            await stderr.WriteLineAsync($"token {response.Token.TokenId} ({response.Token.Role}) expires {Time(response.Token.ExpiresAt)}; it is shown only now");
            return Ok;
        });
        var list = new Command("list", "List API tokens (never their secrets).");
        list.SetAction(async (parse, ct) =>
        {
            using var channel = Channel(parse);
            var response = await new FimManager.FimManagerClient(channel).ListApiTokensAsync(new ListApiTokensRequest(), cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                foreach (var t in response.Tokens)
                {
                    await stdout.WriteLineAsync(Json.Format(t));
                }
                return Ok;
            }
            await stdout.WriteLineAsync($"{"ID",-16} {"NAME",-24} {"ROLE",-8} {"EXPIRES",-20} {"LAST USED",-20} {"STATE",-8} SCOPE");
            foreach (var t in response.Tokens)
            {
                var scope = string.Join(",", t.MatchLabels.Select(l => $"{l.Key}={l.Value}").Concat(t.Namespaces.Select(n => "ns:" + n)));
                var state = t.RevokedAt is not null ? "revoked" : t.ExpiresAt.ToDateTimeOffset() <= DateTimeOffset.UtcNow ? "expired" : "active";
                await stdout.WriteLineAsync($"{t.TokenId,-16} {t.Name,-24} {t.Role,-8} {Time(t.ExpiresAt),-20} {Time(t.LastUsedAt),-20} {state,-8} {scope}");
            }
            return Ok;
        });
        var id = new Argument<string>("id") { Description = "Token id (the part after fimt_)." };
        var revoke = new Command("revoke", "Revoke an API token: every manager refuses it from its next use.") { id };
        revoke.SetAction(async (parse, ct) =>
        {
            using var channel = Channel(parse);
            var t = await new FimManager.FimManagerClient(channel).RevokeApiTokenAsync(new RevokeApiTokenRequest { TokenId = parse.GetValue(id)! }, cancellationToken: ct);
            await stdout.WriteLineAsync($"revoked {t.TokenId} ({t.Name})");
            return Ok;
        });
        return new Command("token", "Manage API tokens for automation (admin).") { create, list, revoke };
    }

    private Grpc.Net.Client.GrpcChannel Channel(ParseResult parse)
    {
        var server = parse.GetValue(_server) ?? environment("FIM_SERVER") ?? DefaultServer;
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"--server: '{server}' is not an http:// or https:// URL");
        }
        var ca = parse.GetValue(_caFile) ?? environment("FIM_CA_FILE");
        if (ca is not null && !File.Exists(ca))
        {
            throw new UsageException($"--ca-file: '{ca}' does not exist");
        }
        var token = Credentials.Resolve(parse.GetValue(_token), parse.GetValue(_tokenFile), environment);
        return ChannelFactory.Create(uri, ca, token);
    }

    private static DateTimeOffset ParseTime(string text, DateTimeOffset now, string option) =>
        TimeArgument.TryParse(text, now, out var time) ? time : throw new UsageException($"{option}: '{text}' is neither a time nor an age like 2h");

    private static string Time(Timestamp? t) =>
        t is null ? "-" : t.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>The applied policies as name@revision, e.g. "prod/web@7".</summary>
    private static string Policies(Agent a) =>
        a.AppliedPolicies.Count == 0 ? "-" : E(string.Join(",", a.AppliedPolicies.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}@{p.Value}")));

    private static string Scan(AgentScan? s) =>
        s is null ? "-" : $"{Time(s.Time)} {E(s.Policy)} ({E(s.Reason)}): {s.Entries} entries, {s.Changes} changes, {s.DurationMs.ToString(CultureInfo.InvariantCulture)} ms";

    private static string Labels(Agent a) => E(string.Join(",", a.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")));

    /// <summary>Every value a human reads goes through here: names from hosts may hold terminal control sequences.</summary>
    private static string E(string? text) => Fim.Contracts.Text.TerminalText.Escape(text);
}

public sealed class UsageException(string message) : Exception(message);
