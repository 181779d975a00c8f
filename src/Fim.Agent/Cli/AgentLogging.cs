using Fim.Contracts.Text;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;
using Serilog.Formatting.Display;

namespace Fim.Agent.Cli;

/// <summary>
/// Everything the agent writes on stderr goes through here: compact JSON when stderr is not a terminal (containers,
/// journald, cron, pipes), readable lines with control characters escaped otherwise. Never both in one run, and a
/// hostile file name can neither forge a line nor drive the terminal.
/// </summary>
public static class AgentLogging
{
    /// <summary>JSON when stderr is redirected, or when FIM_LOG_FORMAT=json asks for it on a terminal.</summary>
    public static bool Json => Console.IsErrorRedirected || Environment.GetEnvironmentVariable("FIM_LOG_FORMAT") == "json";

    /// <summary>FIM_LOG_LEVEL (verbose, debug, information, warning, error, fatal): the least level logged; information by default.</summary>
    public static LogEventLevel Level =>
        Enum.TryParse<LogEventLevel>(Environment.GetEnvironmentVariable("FIM_LOG_LEVEL"), ignoreCase: true, out var level) ? level : LogEventLevel.Information;

    /// <summary>
    /// The NATS client's own level: errors only (it logs every failed reconnect with a stack trace), unless debug or
    /// verbose was asked for, which then covers the client too.
    /// </summary>
    public static LogEventLevel NatsClientLevel => Level <= LogEventLevel.Debug ? Level : LogEventLevel.Error;

    public static ILoggerFactory CreateFactory() => LoggerFactory.Create(b => b.AddSerilog(CreateSerilog(), dispose: true));

    public static Serilog.Core.Logger CreateSerilog(Func<LoggerConfiguration, LoggerConfiguration>? tune = null)
    {
        var config = new LoggerConfiguration().MinimumLevel.Is(Level).Enrich.FromLogContext();
        config = tune?.Invoke(config) ?? config;
        ITextFormatter formatter = Json ? new RenderedCompactJsonFormatter() : new EscapingTextFormatter();
        return config.WriteTo.Console(formatter, standardErrorFromLevel: LogEventLevel.Verbose).CreateLogger();
    }

    /// <summary>An error that ends the program (usage, configuration, a root that cannot be read), in the log's format.</summary>
    public static void Error(string message)
    {
        if (Json)
        {
            using var log = CreateSerilog();
            log.Error("{Error:l}", message);
            return;
        }
        // Line breaks in our own messages (one per configuration problem) stay; everything else is escaped.
        foreach (var (line, i) in message.Split('\n').Select((l, i) => (l, i)))
        {
            Console.Error.WriteLine((i == 0 ? "error: " : "") + TerminalText.Escape(line));
        }
    }

    /// <summary>"HH:mm:ss LVL message" with control characters in the rendered message and exception escaped.</summary>
    private sealed class EscapingTextFormatter : ITextFormatter
    {
        private readonly MessageTemplateTextFormatter _line = new("{Timestamp:HH:mm:ss} {Level:u3} {Message:lj}");

        public void Format(LogEvent logEvent, TextWriter output)
        {
            var text = new StringWriter();
            _line.Format(logEvent, text);
            output.WriteLine(TerminalText.Escape(text.ToString()));
            if (logEvent.Exception is { } e)
            {
                foreach (var line in e.ToString().Split('\n'))
                {
                    output.WriteLine(TerminalText.Escape(line.TrimEnd('\r')));
                }
            }
        }
    }
}
