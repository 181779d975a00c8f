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
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine($"error: {error.Message}");
    }
    Console.Error.WriteLine("Run 'fim-agent --help' for usage.");
    return ExitCodes.InvalidArgument;
}
try
{
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (AgentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return e.ExitCode;
}
catch (OperationCanceledException)
{
    return ExitCodes.NoChanges;
}
catch (Exception e)
{
    Console.Error.WriteLine($"internal error: {e}");
    return ExitCodes.InternalError;
}
