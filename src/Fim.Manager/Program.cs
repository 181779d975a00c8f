using Fim.Manager;
using Microsoft.Extensions.Options;

try
{
    await ManagerApp.Build(args).RunAsync();
    return 0;
}
catch (OptionsValidationException e)
{
    await Console.Error.WriteLineAsync("fim-manager: invalid configuration:\n  " + string.Join("\n  ", e.Failures));
    return 2;
}
