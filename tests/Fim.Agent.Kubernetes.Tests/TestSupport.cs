using Microsoft.Extensions.Logging;

namespace Fim.Agent.Kubernetes.Tests;

/// <summary>A temporary directory with a state dir and a key file; removed on dispose.</summary>
public sealed class TempTree : IDisposable
{
    public TempTree(string name)
    {
        Root = Path.Combine(Path.GetTempPath(), $"fim-{name}-{Guid.NewGuid():N}"[..32]);
        Directory.CreateDirectory(Root);
        State = Path.Combine(Root, "state");
        KeyFile = Path.Combine(Root, "keys", "baseline.key");
    }

    public string Root { get; }
    public string State { get; }
    public string KeyFile { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal sealed class ListLogger : ILogger
{
    private readonly List<string> _entries = [];

    public List<string> Messages
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add($"{logLevel}: {formatter(state, exception)}");
        }
    }
}
