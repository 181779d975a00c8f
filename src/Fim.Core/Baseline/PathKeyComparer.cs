using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Fim.Core.Baseline;

/// <summary>
/// Byte-path equality and order with the same meaning as <see cref="Model.PathComparer"/>, plus lookups by
/// <see cref="ReadOnlySpan{T}"/> so a scanner can probe the baseline without allocating a key.
/// </summary>
internal sealed class PathKeyComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>, IComparer<byte[]>
{
    public static readonly PathKeyComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj) => Hash(obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

    // Sorting a snapshot calls this millions of times right away, before tiered compilation would optimise it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);

    private static int Hash(ReadOnlySpan<byte> path) => unchecked((int)XxHash3.HashToUInt64(path));
}
