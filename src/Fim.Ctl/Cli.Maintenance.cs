using System.CommandLine;
using Fim.Api.V1;
using Google.Protobuf.WellKnownTypes;

namespace Fim.Ctl;

/// <summary>fimctl maintenance (create, list, end): maintenance windows, during which alerts are lowered and tagged.</summary>
public sealed partial class Cli
{
    private Command MaintenanceCommand()
    {
        var duration = new Option<string?>("--duration") { Description = "How long it lasts: 30m, 2h, 1d (or give --end)." };
        var start = new Option<string?>("--start") { Description = "When it opens: an RFC 3339 time (default: now)." };
        var end = new Option<string?>("--end") { Description = "When it closes: an RFC 3339 time (or give --duration)." };
        var labels = new Option<string[]>("--label") { Description = "Only agents with this label (key=value); repeatable. Default: every agent." };
        var reason = new Option<string>("--reason") { Description = "What it is for (required), e.g. \"monthly patching, CHG-1234\"." };
        var reduction = new Option<int?>("--level-reduction") { Description = "Levels alerts drop during it (default: the manager's)." };
        var create = new Command("create", "Open a maintenance window: alerts of the selected agents are lowered and tagged maintenance:<id>, none is hidden.")
        {
            duration, start, end, labels, reason, reduction,
        };
        create.SetAction(async (parse, ct) =>
        {
            var now = DateTimeOffset.UtcNow;
            var request = new CreateMaintenanceWindowRequest { Reason = parse.GetValue(reason) ?? "" };
            if (parse.GetValue(start) is { } s)
            {
                request.Start = Timestamp.FromDateTimeOffset(AbsoluteTime(s, "--start"));
            }
            if (parse.GetValue(end) is { } e)
            {
                request.End = Timestamp.FromDateTimeOffset(AbsoluteTime(e, "--end"));
            }
            if (parse.GetValue(duration) is { } d)
            {
                // An age, as --since takes it: "2h" is two hours.
                if (d.Length < 2 || !char.IsAsciiLetter(d[^1]) || !TimeArgument.TryParse(d, now, out var before) || now - before < TimeSpan.FromSeconds(1))
                {
                    throw new UsageException($"--duration '{d}': expected a duration such as 30m, 2h or 1d");
                }
                request.DurationSeconds = (long)(now - before).TotalSeconds;
            }
            if (parse.GetValue(reduction) is { } r)
            {
                request.LevelReduction = r;
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
            using var channel = Channel(parse);
            var w = await new FimMaintenance.FimMaintenanceClient(channel).CreateMaintenanceWindowAsync(request, cancellationToken: ct);
            await stdout.WriteLineAsync(parse.GetValue(_json) ? Json.Format(w)
                : $"maintenance window {w.WindowId}: {Time(w.Start)} to {Time(w.End)}, {Selector(w)}, alerts lowered by {w.LevelReduction} and tagged {w.Tag}");
            return Ok;
        });
        var all = new Option<bool>("--all") { Description = "Also windows that have closed." };
        var list = new Command("list", "List open and future maintenance windows.") { all };
        list.SetAction(async (parse, ct) =>
        {
            using var channel = Channel(parse);
            var response = await new FimMaintenance.FimMaintenanceClient(channel).ListMaintenanceWindowsAsync(
                new ListMaintenanceWindowsRequest { IncludeClosed = parse.GetValue(all) }, cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                foreach (var w in response.Windows)
                {
                    await stdout.WriteLineAsync(Json.Format(w));
                }
                return Ok;
            }
            await stdout.WriteLineAsync($"{"WINDOW",-16} {"OPEN",-5} {"START",-20} {"END",-20} {"LOWER",-5} {"AGENTS",-24} REASON");
            foreach (var w in response.Windows)
            {
                var closes = w.EndedAt is { } ended && ended.ToDateTimeOffset() < w.End.ToDateTimeOffset() ? ended : w.End;
                await stdout.WriteLineAsync($"{w.WindowId,-16} {(w.Open ? "yes" : "no"),-5} {Time(w.Start),-20} {Time(closes),-20} {w.LevelReduction,-5} {Selector(w),-24} {E(w.Reason)}");
            }
            return Ok;
        });
        var id = new Argument<string>("window-id") { Description = "Window id (mw-..., from the list)." };
        var endCommand = new Command("end", "Close a maintenance window now: alerts are at their full level again.") { id };
        endCommand.SetAction(async (parse, ct) =>
        {
            using var channel = Channel(parse);
            var w = await new FimMaintenance.FimMaintenanceClient(channel).EndMaintenanceWindowAsync(
                new EndMaintenanceWindowRequest { WindowId = parse.GetValue(id)! }, cancellationToken: ct);
            await stdout.WriteLineAsync(parse.GetValue(_json) ? Json.Format(w) : $"maintenance window {w.WindowId} ended at {Time(w.EndedAt)}");
            return Ok;
        });
        return new Command("maintenance", "Maintenance windows: alerts during them are lowered and tagged, never hidden.") { create, list, endCommand };
    }

    private static DateTimeOffset AbsoluteTime(string text, string option) =>
        DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : throw new UsageException($"{option} '{text}': expected an RFC 3339 time such as 2026-12-24T22:00:00Z");

    private static string Selector(MaintenanceWindow w) =>
        w.MatchLabels.Count == 0 ? "all agents" : E(string.Join(",", w.MatchLabels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")));
}
