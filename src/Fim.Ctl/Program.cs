using Fim.Ctl;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
return await new Cli(Console.Out, Console.Error, Environment.GetEnvironmentVariable).RunAsync(args, cancel.Token);
