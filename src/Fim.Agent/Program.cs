using System.CommandLine;
using Fim.Agent.Cli;

var common = new CommonOptions();
var root = new RootCommand("fim-agent: file integrity monitoring agent (scan, watch; run connected to NATS).\n\n" + ExitCodes.HelpText)
{
    ScanCommand.Create(common),
    WatchCommand.Create(common),
    RunCommand.Create(),
    NatsAuthzCommand.Create(),
    EnrollCommand.Create(),
};

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    AgentLogging.Error(string.Join('\n', parse.Errors.Select(e => e.Message)) + "\nRun 'fim-agent --help' for usage.");
    return ExitCodes.InvalidArgument;
}
using var interruption = new Interruption(Console.Error);
Interruption.Current = interruption;
try
{
    // System.CommandLine's own SIGINT/SIGTERM handling is off (null timeout): Interruption owns both signals.
    var code = await parse.InvokeAsync(
        new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, interruption.Token);
    if (interruption.Interrupted && code == ExitCodes.NoChanges)
    {
        Console.Error.WriteLine($"fim-agent: stopped by {interruption.SignalName}");
        return interruption.ExitCode;
    }
    return code;
}
catch (AgentException e)
{
    AgentLogging.Error(e.Message);
    return e.ExitCode;
}
catch (OperationCanceledException) when (interruption.Interrupted)
{
    Console.Error.WriteLine($"fim-agent: interrupted by {interruption.SignalName} before it finished; nothing was recorded");
    return interruption.ExitCode;
}
catch (Exception e)
{
    AgentLogging.Error($"internal error: {e}");
    return ExitCodes.InternalError;
}
