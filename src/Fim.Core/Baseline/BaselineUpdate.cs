using Fim.Core.Model;

namespace Fim.Core.Baseline;

/// <summary>One change to the baseline: <see cref="Record"/> is the new state of <see cref="Path"/>, or null when the path is gone.</summary>
/// <remarks>
/// One reference, the record or else the path: a scan holds an update per file until it commits, and a first baseline of
/// a million files held 16 MB of them at the moment memory peaks where 8 MB do.
/// </remarks>
public readonly struct BaselineUpdate : IEquatable<BaselineUpdate>
{
    private readonly object _item;

    /// <exception cref="ArgumentException"><paramref name="record"/> is the record of another path.</exception>
    public BaselineUpdate(byte[] path, FileRecord? record)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (record is not null && !ReferenceEquals(record.Path, path) && !record.Path.AsSpan().SequenceEqual(path))
        {
            throw new ArgumentException($"an update for {PathBytes.ToDisplay(path)} carries the record of {PathBytes.ToDisplay(record.Path)}", nameof(record));
        }
        _item = (object?)record ?? path;
    }

    public byte[] Path => _item is FileRecord record ? record.Path : (byte[])_item;

    public FileRecord? Record => _item as FileRecord;

    public static BaselineUpdate Upsert(FileRecord record) => new(record.Path, record);

    public static BaselineUpdate Delete(byte[] path) => new(path, null);

    public void Deconstruct(out byte[] path, out FileRecord? record)
    {
        path = Path;
        record = Record;
    }

    public bool Equals(BaselineUpdate other) => ReferenceEquals(_item, other._item);

    public override bool Equals(object? obj) => obj is BaselineUpdate other && Equals(other);

    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(_item);

    public static bool operator ==(BaselineUpdate left, BaselineUpdate right) => left.Equals(right);

    public static bool operator !=(BaselineUpdate left, BaselineUpdate right) => !left.Equals(right);
}
