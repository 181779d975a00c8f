using System.CommandLine;
using Fim.Agent.Monitoring;
using Fim.Agent.Platform;
using Fim.Agent.WhoData;
using Fim.Contracts;
using Fim.Core.Events;
using Fim.Core.Rules;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Fim.Agent.Cli;

/// <summary>`fim-agent watch`: baseline, then realtime detection (inotify) plus scheduled rescans, printing alerts as they happen.</summary>
public static class WatchCommand
{
    public static Command Create(CommonOptions common)
    {
        var metrics = new Option<string?>("--metrics-listen")
        {
            Description = "Serve Prometheus metrics on host:port (e.g. 127.0.0.1:9101); off by default.",
        };
        var whoData = new Option<string>("--who-data")
        {
            Description = "Best who-data source to use: auto (fanotify with the eBPF process table where the agent's privileges allow, then fanotify with /proc, then inotify), fanotify-proc, or inotify.",
            DefaultValueFactory = _ => "auto",
        };
        whoData.AcceptOnlyFromAmong("auto", "fanotify-proc", "inotify");
        var command = new Command("watch", "Record or check the baseline, then report changes in real time (fanotify with who-data, or inotify) with scheduled rescans. Ctrl-C stops.");
        common.AddTo(command);
        command.Add(metrics);
        command.Add(whoData);
        command.SetAction((parse, ct) => RunAsync(common, parse, parse.GetValue(metrics), Limit(parse.GetValue(whoData)), ct));
        return command;
    }

    private static WhoDataLimit Limit(string? value) => value switch
    {
        "inotify" => WhoDataLimit.InotifyOnly,
        "fanotify-proc" => WhoDataLimit.NoProcessFeed,
        _ => WhoDataLimit.Best,
    };

    private static async Task<int> RunAsync(CommonOptions common, ParseResult parse, string? metricsListen, WhoDataLimit whoData, CancellationToken ct)
    {
        using var loggers = AgentLogging.CreateFactory();
        var logger = loggers.CreateLogger("fim-agent");
        var state = common.LoadState(parse);
        var policy = common.LoadPolicy(parse, state, logger);
        var output = common.CreateOutput(parse, logger);
        if (ProcessPriority.Apply(policy.Nice, policy.IoClass) is { } problem)
        {
            logger.LogWarning("could not lower priority: {Problem}", problem);
        }
        using var metricServer = StartMetrics(metricsListen);
        using var session = MonitorSession.Open(policy, state, parse.GetValue(common.Rebaseline));
        var choice = WhoDataSelector.Create(policy, loggers, logger, whoData);
        await using var watcher = choice.Watcher;
        var alerts = new AlertFactory(EventOrigin.Local(), RuleSet.Default, AlertContext.For(policy),
            Packages.PackageAwareness.ForHost(null, new Packages.PackageOptions(), TimeProvider.System, logger, Packages.PackageScope.Of(policy))?.PrimeInBackground());
        var sink = new AlertOutputSink(output, alerts, policy.EventsPerSecond, TimeProvider.System);
        var loop = new WatchLoop(session, sink, watcher, logger, TimeProvider.System);
        await loop.RunAsync(ct);
        return ExitCodes.NoChanges;
    }

    private static IDisposable? StartMetrics(string? listen)
    {
        if (listen is null)
        {
            return null;
        }
        var colon = listen.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(listen[(colon + 1)..], out var port) || port is <= 0 or > 65535)
        {
            throw new AgentException(ExitCodes.InvalidArgument, $"--metrics-listen expects host:port, got '{listen}'");
        }
        return new MetricServer(listen[..colon], port).Start();
    }
}
