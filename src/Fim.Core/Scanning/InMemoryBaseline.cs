using System.Collections.Concurrent;
using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Core.Scanning;

/// <summary>A baseline held only in memory: for tests, benchmarks and one-shot comparisons.</summary>
public sealed class InMemoryBaseline : IBaselineView
{
    private readonly ConcurrentDictionary<byte[], FileRecord> _records;
    private readonly ConcurrentDictionary<byte[], FileRecord>.AlternateLookup<ReadOnlySpan<byte>> _bySpan;

    public InMemoryBaseline()
    {
        _records = new(PathComparer.Instance);
        _bySpan = _records.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public int Count => _records.Count;

    public IEnumerable<FileRecord> All => _records.Values;

    public bool TryGet(ReadOnlySpan<byte> path, out FileRecord record) => _bySpan.TryGetValue(path, out record!);

    public void MarkSeen(FileRecord record, int generation) => record.SeenGeneration = generation;

    public int SeenGeneration(FileRecord record) => record.SeenGeneration;

    public void Apply(IEnumerable<BaselineUpdate> updates)
    {
        foreach (var u in updates)
        {
            if (u.Record is null)
            {
                _records.TryRemove(u.Path, out _);
            }
            else
            {
                _records[u.Path] = u.Record;
            }
        }
    }
}
