using Fim.Contracts;

namespace Fim.Agent.Output;

/// <summary>One JSON object per line on stdout: the alert when a rule raised one, else the bare event.</summary>
public sealed class JsonLinesOutput(TextWriter stdout, TextWriter stderr) : IAlertOutput
{
    private readonly Lock _lock = new();

    public void Write(FileEvent e, Alert? alert)
    {
        var json = ContractJson.ToText(alert ?? e);
        lock (_lock)
        {
            stdout.WriteLine(json);
            stdout.Flush();
        }
    }

    public void Notice(string message)
    {
        lock (_lock)
        {
            stderr.WriteLine(message);
        }
    }
}
