using Fim.Core.Scanning;

namespace Fim.Agent.Output;

/// <summary>A one-line progress display on a terminal's stderr while a long scan runs; silent otherwise.</summary>
public sealed class ScanProgress : IDisposable
{
    private readonly Timer? _timer;
    private readonly Func<ScanStats> _stats;
    private bool _shown;

    public ScanProgress(Func<ScanStats> stats, bool enabled)
    {
        _stats = stats;
        if (enabled)
        {
            _timer = new Timer(_ => Show(), null, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(250));
        }
    }

    private void Show()
    {
        var s = _stats();
        _shown = true;
        Console.Error.Write($"\rscanning: {s.Entries:N0} entries, {s.FilesHashed:N0} files hashed ({s.BytesHashed / (1024.0 * 1024):N0} MiB)   ");
    }

    public void Dispose()
    {
        _timer?.Dispose();
        if (_shown)
        {
            Console.Error.Write("\r\u001b[K");
        }
    }
}
