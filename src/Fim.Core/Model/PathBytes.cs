using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Text;

namespace Fim.Core.Model;

/// <summary>
/// Linux file names are bytes, not text. Paths travel as byte arrays and become text only for display,
/// where bytes that are not valid UTF-8 are written as \xNN.
/// </summary>
public static class PathBytes
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    public static byte[] FromString(string path) => Encoding.UTF8.GetBytes(path);

    public static bool IsValidUtf8(ReadOnlySpan<byte> path) => System.Text.Unicode.Utf8.IsValid(path);

    /// <summary>Readable form: the UTF-8 text when the name is valid UTF-8, otherwise invalid bytes escaped as \xNN.</summary>
    public static string ToDisplay(ReadOnlySpan<byte> path)
    {
        if (System.Text.Unicode.Utf8.IsValid(path))
        {
            return StrictUtf8.GetString(path);
        }
        var sb = new StringBuilder(path.Length + 16);
        var rest = path;
        while (!rest.IsEmpty)
        {
            var status = System.Text.Rune.DecodeFromUtf8(rest, out var rune, out var consumed);
            if (status == System.Buffers.OperationStatus.Done)
            {
                sb.Append(rune.ToString());
            }
            else
            {
                for (var i = 0; i < consumed; i++)
                {
                    sb.Append("\\x").Append(rest[i].ToString("x2"));
                }
            }
            rest = rest[consumed..];
        }
        return sb.ToString();
    }

    public static byte[] Join(ReadOnlySpan<byte> directory, ReadOnlySpan<byte> name)
    {
        var needsSlash = directory.Length == 0 || directory[^1] != (byte)'/';
        var result = new byte[directory.Length + (needsSlash ? 1 : 0) + name.Length];
        directory.CopyTo(result);
        if (needsSlash)
        {
            result[directory.Length] = (byte)'/';
        }
        name.CopyTo(result.AsSpan(directory.Length + (needsSlash ? 1 : 0)));
        return result;
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="root"/> or lies below it.</summary>
    public static bool IsUnder(ReadOnlySpan<byte> path, ReadOnlySpan<byte> root)
    {
        if (root.Length == 1 && root[0] == (byte)'/')
        {
            return path.Length > 0 && path[0] == (byte)'/';
        }
        return path.StartsWith(root) && (path.Length == root.Length || path[root.Length] == (byte)'/');
    }

    public static ReadOnlySpan<byte> Parent(ReadOnlySpan<byte> path)
    {
        var i = path.LastIndexOf((byte)'/');
        return i <= 0 ? "/"u8 : path[..i];
    }

    public static ReadOnlySpan<byte> FileName(ReadOnlySpan<byte> path)
    {
        var i = path.LastIndexOf((byte)'/');
        return i < 0 ? path : path[(i + 1)..];
    }

    /// <summary>Makes an absolute, normalised path (no trailing slash, no "." or ".." parts) without resolving symlinks.</summary>
    public static string Normalize(string path)
    {
        var full = Path.GetFullPath(path);
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }

    public static int Compare(byte[]? a, byte[]? b) => a.AsSpan().SequenceCompareTo(b);
}

/// <summary>Equality and hashing of byte paths, for dictionaries keyed by path.</summary>
public sealed class PathComparer : IEqualityComparer<byte[]>, IComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly PathComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj) => unchecked((int)XxHash3.HashToUInt64(obj));

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<byte> alternate) => unchecked((int)XxHash3.HashToUInt64(alternate));

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

    // Sorting a snapshot calls this millions of times right away, before tiered compilation would optimise it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
