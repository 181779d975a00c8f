using Fim.Contracts;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Output;

/// <summary>
/// One JSON object per line on stdout: the alert when a rule raised one, else the bare event. Notices go to the log
/// (stderr, JSON when it is not a terminal), so neither stream mixes formats.
/// </summary>
public sealed class JsonLinesOutput(TextWriter stdout, ILogger log) : IAlertOutput
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

    public void Notice(string message) => log.LogInformation("{Notice:l}", message);
}
