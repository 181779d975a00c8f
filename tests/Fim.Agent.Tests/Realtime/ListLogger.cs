using Microsoft.Extensions.Logging;

namespace Fim.Agent.Tests.Realtime;

internal sealed class ListLogger<T> : ILogger<T>
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public List<string> Messages
    {
        get
        {
            lock (_entries)
            {
                return _entries.Select(e => $"{e.Level}: {e.Message}").ToList();
            }
        }
    }

    public bool Has(LogLevel level, string fragment)
    {
        lock (_entries)
        {
            return _entries.Any(e => e.Level == level && e.Message.Contains(fragment, StringComparison.Ordinal));
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, formatter(state, exception)));
        }
    }
}
