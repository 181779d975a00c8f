using System.CommandLine;
using System.Globalization;
using Fim.Api.V1;
using Grpc.Core;

namespace Fim.Ctl;

/// <summary>fimctl agents prune and fimctl query: removing disconnected agents and the live fleet query.</summary>
public sealed partial class Cli
{
    /// <summary>One answer per line, so a script can read the stream line by line.</summary>
    private static readonly Google.Protobuf.JsonFormatter Compact = new(Google.Protobuf.JsonFormatter.Settings.Default);

    private Command PruneCommand()
    {
        var olderThan = new Option<string>("--older-than") { Description = "Only agents whose last heartbeat is at least this old: 30m, 12h, 7d (required).", Required = true };
        var status = new Option<string?>("--status") { Description = "Which agents: only 'disconnected' (the default) can be pruned." };
        var agent = new Option<string?>("--agent", "-a") { Description = "Only this agent." };
        var command = new Command("prune", "Remove disconnected agents from the directory; their alerts are kept and the removal records who did it.")
        {
            olderThan, status, agent,
        };
        command.SetAction(async (parse, ct) =>
        {
            var request = new PruneAgentsRequest
            {
                OlderThan = parse.GetValue(olderThan) ?? "",
                Status = parse.GetValue(status) ?? "",
                AgentId = parse.GetValue(agent) ?? "",
            };
            using var channel = Channel(parse);
            var response = await new FimFleet.FimFleetClient(channel).PruneAgentsAsync(request, cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                foreach (var r in response.Removed)
                {
                    await stdout.WriteLineAsync(Compact.Format(r));
                }
            }
            else
            {
                foreach (var r in response.Removed)
                {
                    await stdout.WriteLineAsync($"removed {E(r.AgentId)} ({E(r.Host)}), last seen {Time(r.LastSeen)}");
                }
                await stderr.WriteLineAsync($"{response.Removed.Count} agent(s) removed");
            }
            foreach (var kept in response.Kept)
            {
                await stderr.WriteLineAsync($"kept {E(kept)}: it sent a heartbeat while being removed");
            }
            return Ok;
        });
        return command;
    }

    private Command QueryCommand()
    {
        var path = new Argument<string>("path") { Description = "Absolute path inside the agents' policies." };
        var selector = new Option<string?>("--selector", "-l") { Description = "Label selector over agent labels: team=payments,env!=dev,zone in (a,b). Default: every agent." };
        var timeout = new Option<string?>("--timeout") { Description = "How long to wait for answers: 5s, 1500ms (default and maximum: the manager's)." };
        var command = new Command("query", "Show what a path looks like now on every agent matching a selector; agents that do not answer in time are listed.")
        {
            path, selector, timeout,
        };
        command.SetAction(async (parse, ct) =>
        {
            var request = new QueryFleetRequest { Path = parse.GetValue(path)!, Selector = parse.GetValue(selector) ?? "", Timeout = parse.GetValue(timeout) ?? "" };
            using var channel = Channel(parse);
            using var call = new FimFleet.FimFleetClient(channel).QueryFleet(request, cancellationToken: ct);
            var json = parse.GetValue(_json);
            if (!json)
            {
                await stdout.WriteLineAsync($"{"AGENT",-28} {"OUTCOME",-10} {"TYPE",-9} {"SIZE",10} {"MODE",-5} {"OWNER",-10} {"MTIME",-20} SHA256 / ERROR");
            }
            var missing = 0;
            await foreach (var a in call.ResponseStream.ReadAllAsync(ct))
            {
                missing += a.Outcome == "no-answer" ? 1 : 0;
                if (json)
                {
                    await stdout.WriteLineAsync(Compact.Format(a));
                    continue;
                }
                var detail = a.Outcome == "present" ? a.Sha256 : a.Error;
                var size = a.Outcome == "present" ? a.Size.ToString(CultureInfo.InvariantCulture) : "-";
                await stdout.WriteLineAsync($"{E(a.AgentId),-28} {E(a.Outcome),-10} {E(Dash(a.Type)),-9} {size,10} {E(Dash(a.Mode)),-5} {E(Dash(a.Owner)),-10} {(a.Mtime is null ? "-" : Time(a.Mtime)),-20} {E(detail)}");
            }
            if (missing > 0)
            {
                await stderr.WriteLineAsync($"{missing} agent(s) did not answer before the deadline");
            }
            return Ok;
        });
        return command;
    }

    private static string Dash(string text) => text.Length == 0 ? "-" : text;
}
