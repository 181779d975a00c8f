using Fim.Manager;
using Fim.Manager.Setup;

if (ManagerCommands.TryRun(args, Console.Out, Console.Error) is { } exitCode)
{
    return exitCode;
}
try
{
    await ManagerApp.Build(args).RunAsync();
    return 0;
}
catch (Exception e) when (ManagerApp.ConfigurationFailures(e) is { Count: > 0 } failures)
{
    await Console.Error.WriteLineAsync("fim-manager: invalid configuration:\n  " + string.Join("\n  ", failures));
    return 2;
}
