namespace Fim.Core.Scanning;

/// <summary>
/// Several lists read as one, in order, without copying them: a scan's workers each keep their own updates, and one
/// list of them all would hold a second copy (and the garbage of growing it) at the moment memory peaks, a million
/// entries of 16 bytes after a first baseline of a million files. The parts must not change while this is read.
/// </summary>
internal sealed class ConcatenatedList<T> : IReadOnlyList<T>
{
    private readonly List<T>[] _parts;
    private readonly int[] _starts;

    public ConcatenatedList(IEnumerable<List<T>> parts)
    {
        _parts = [.. parts.Where(p => p.Count > 0)];
        _starts = new int[_parts.Length];
        var count = 0;
        for (var i = 0; i < _parts.Length; i++)
        {
            _starts[i] = count;
            count += _parts[i].Count;
        }
        Count = count;
    }

    public int Count { get; }

    public T this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            var part = Array.BinarySearch(_starts, index);
            // Not found: the complement of the first start above the index, so the part before it holds the index.
            part = part >= 0 ? part : ~part - 1;
            return _parts[part][index - _starts[part]];
        }
    }

    public IEnumerator<T> GetEnumerator()
    {
        foreach (var part in _parts)
        {
            foreach (var item in part)
            {
                yield return item;
            }
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
