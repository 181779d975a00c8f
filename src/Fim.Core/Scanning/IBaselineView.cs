using Fim.Core.Model;

namespace Fim.Core.Scanning;

/// <summary>What a scan reads of the baseline: safe to call from several scan threads at once.</summary>
public interface IBaselineView
{
    bool TryGet(ReadOnlySpan<byte> path, out FileRecord record);

    int Count { get; }

    IEnumerable<FileRecord> All { get; }
}
