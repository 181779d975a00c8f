namespace Fim.Core.Baseline;

/// <summary>
/// A first baseline's updates, one per record, frozen by the walk that found them: each is decoded when read, and
/// <see cref="BaselineRecords.Apply"/> takes the frozen records whole into an empty baseline, so no object per file
/// is held between the walk and the commit.
/// </summary>
internal sealed class FrozenUpdates(FrozenRecords records) : IReadOnlyList<BaselineUpdate>
{
    public FrozenRecords Records => records;

    public int Count => records.Count;

    public BaselineUpdate this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return BaselineUpdate.Upsert(records.Decode(index));
        }
    }

    public IEnumerator<BaselineUpdate> GetEnumerator()
    {
        for (var i = 0; i < records.Count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
