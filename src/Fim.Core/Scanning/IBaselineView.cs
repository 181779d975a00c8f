using Fim.Core.Model;

namespace Fim.Core.Scanning;

/// <summary>What a scan reads of the baseline: safe to call from several scan threads at once.</summary>
public interface IBaselineView
{
    bool TryGet(ReadOnlySpan<byte> path, out FileRecord record);

    int Count { get; }

    IEnumerable<FileRecord> All { get; }

    /// <summary>Records that the scan of <paramref name="generation"/> met <paramref name="record"/> (as <see cref="TryGet"/> gave it).</summary>
    void MarkSeen(FileRecord record, int generation);

    /// <summary>The scan generation that last met <paramref name="record"/>'s path.</summary>
    int SeenGeneration(FileRecord record);
}
