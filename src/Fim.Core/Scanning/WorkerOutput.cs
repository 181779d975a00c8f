using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Core.Scanning;

/// <summary>What one walk worker found: its changes, updates and issues, its batched counters, and its path buffer.</summary>
internal sealed class WorkerOutput
{
    private byte[] _pathBuffer = new byte[4096];

    public long UnchangedFiles;
    public long SeenInBaseline;
    public long UnchangedDirectories;
    public long UnchangedHashed;

    public ReadOnlySpan<byte> ComposePath(ReadOnlySpan<byte> directory, ReadOnlySpan<byte> name)
    {
        var length = directory.Length + 1 + name.Length;
        if (_pathBuffer.Length < length)
        {
            _pathBuffer = new byte[length * 2];
        }
        directory.CopyTo(_pathBuffer);
        var at = directory.Length;
        if (at == 0 || directory[at - 1] != (byte)'/')
        {
            _pathBuffer[at++] = (byte)'/';
        }
        name.CopyTo(_pathBuffer.AsSpan(at));
        return _pathBuffer.AsSpan(0, at + name.Length);
    }

    public List<FileChange> Changes { get; } = [];
    public List<BaselineUpdate> Updates { get; } = [];
    public List<ScanIssue> Issues { get; } = [];
}
