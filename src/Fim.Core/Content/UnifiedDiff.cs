using System.Text;
using DiffPlex.Renderer;

namespace Fim.Core.Content;

/// <summary>A unified diff of two texts (DiffPlex), cut at a size with a marker line saying so.</summary>
public static class UnifiedDiff
{
    public const int ContextLines = 3;
    public const string TruncatedMarker = "[fim: diff truncated";

    /// <summary>The diff of <paramref name="before"/> and <paramref name="after"/> and its full size in UTF-8 bytes; cut when longer than <paramref name="maxBytes"/>.</summary>
    public static (string Text, bool Truncated, long FullSize) Create(string before, string after, string displayPath, long maxBytes)
    {
        var full = UnidiffRenderer.GenerateUnidiff(before, after, "a" + displayPath, "b" + displayPath, ignoreWhitespace: false, ignoreCase: false, ContextLines);
        var size = Encoding.UTF8.GetByteCount(full);
        if (size <= maxBytes)
        {
            return (full, false, size);
        }
        return (Cut(full, maxBytes, size), true, size);
    }

    private static string Cut(string full, long maxBytes, long fullSize)
    {
        var marker = $"{TruncatedMarker} at {maxBytes} of {fullSize} bytes (policy diffs.maxDiffSize)]\n";
        var budget = Math.Max(0, maxBytes - marker.Length);
        var builder = new StringBuilder();
        long used = 0;
        foreach (var line in full.Split('\n'))
        {
            var cost = Encoding.UTF8.GetByteCount(line) + 1;
            if (used + cost > budget)
            {
                break;
            }
            builder.Append(line).Append('\n');
            used += cost;
        }
        return builder.Append(marker).ToString();
    }
}
