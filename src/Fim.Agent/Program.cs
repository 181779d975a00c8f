using System.CommandLine;
using Fim.Agent.Cli;

var common = new CommonOptions();
var root = new RootCommand("fim-agent: file integrity monitoring agent (scan, watch; run connected to NATS).\n\n" + ExitCodes.HelpText)
{
    ScanCommand.Create(common),
    WatchCommand.Create(common),
    RunCommand.Create(),
    NatsAuthzCommand.Create(),
};

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    AgentLogging.Error(string.Join('\n', parse.Errors.Select(e => e.Message)) + "\nRun 'fim-agent --help' for usage.");
    return ExitCodes.InvalidArgument;
}
try
{
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (AgentException e)
{
    AgentLogging.Error(e.Message);
    return e.ExitCode;
}
catch (OperationCanceledException)
{
    return ExitCodes.NoChanges;
}
catch (Exception e)
{
    AgentLogging.Error($"internal error: {e}");
    return ExitCodes.InternalError;
}
