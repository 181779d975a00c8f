using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Formatting.Compact;

namespace Fim.Agent.Cli;

/// <summary>Serilog to stderr: compact JSON when stderr is not a terminal (containers, journald), readable otherwise.</summary>
public static class AgentLogging
{
    public static ILoggerFactory CreateFactory()
    {
        var json = Console.IsErrorRedirected || Environment.GetEnvironmentVariable("FIM_LOG_FORMAT") == "json";
        var config = new LoggerConfiguration().MinimumLevel.Information().Enrich.FromLogContext();
        config = json
            ? config.WriteTo.Console(new RenderedCompactJsonFormatter(), standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose)
            : config.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss} {Level:u3} {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose);
        return LoggerFactory.Create(b => b.AddSerilog(config.CreateLogger(), dispose: true));
    }
}
