using Microsoft.Extensions.Logging;

namespace Fim.Agent.Kubernetes.Tests;

/// <summary>A logger factory whose loggers all write into one list, shown in failure messages.</summary>
internal sealed class CollectedLogs : ILoggerFactory
{
    private readonly ListLogger _logger = new();

    public string Text => string.Join("\n", _logger.Messages);

    public ILogger CreateLogger(string categoryName) => _logger;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}
