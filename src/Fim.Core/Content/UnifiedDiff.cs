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
        var full = IsCheapToDiff(before, after)
            ? UnidiffRenderer.GenerateUnidiff(before, after, "a" + displayPath, "b" + displayPath, ignoreWhitespace: false, ignoreCase: false, ContextLines)
            : Replacement(before, after, displayPath);
        var size = Encoding.UTF8.GetByteCount(full);
        if (size <= maxBytes)
        {
            return (full, false, size);
        }
        return (Cut(full, maxBytes, size), true, size);
    }

    /// <summary>
    /// DiffPlex's Myers diff costs about the square of the lines that differ (a 1-line file grown to 50,000 lines takes
    /// 20 s), and the event can only carry the first kilobytes anyway. Beyond <see cref="MaxEditedLines"/> lines
    /// that appear on one side only, the changed region is shown as one replacement hunk instead: still a correct
    /// unified diff, just not the shortest.
    /// </summary>
    public const int MaxEditedLines = 4000;

    private const int MaxMiddleLines = 400_000;

    private static bool IsCheapToDiff(string before, string after)
    {
        var (a, b, prefix, suffix) = Middle(before, after);
        var aMid = a.Length - prefix - suffix;
        var bMid = b.Length - prefix - suffix;
        if (aMid + bMid <= MaxEditedLines)
        {
            return true;
        }
        if (aMid + bMid > MaxMiddleLines)
        {
            return false;
        }
        var inA = new HashSet<string>(a.Skip(prefix).Take(aMid), StringComparer.Ordinal);
        var inB = new HashSet<string>(b.Skip(prefix).Take(bMid), StringComparer.Ordinal);
        var edited = 0;
        for (var i = prefix; i < prefix + aMid && edited <= MaxEditedLines; i++)
        {
            edited += inB.Contains(a[i]) ? 0 : 1;
        }
        for (var i = prefix; i < prefix + bMid && edited <= MaxEditedLines; i++)
        {
            edited += inA.Contains(b[i]) ? 0 : 1;
        }
        return edited <= MaxEditedLines;
    }

    /// <summary>Both texts as lines, with the number of lines they share at the start and (not overlapping) at the end.</summary>
    private static (string[] A, string[] B, int Prefix, int Suffix) Middle(string before, string after)
    {
        var a = Lines(before);
        var b = Lines(after);
        var prefix = 0;
        while (prefix < a.Length && prefix < b.Length && a[prefix] == b[prefix])
        {
            prefix++;
        }
        var suffix = 0;
        while (suffix < a.Length - prefix && suffix < b.Length - prefix && a[a.Length - 1 - suffix] == b[b.Length - 1 - suffix])
        {
            suffix++;
        }
        return (a, b, prefix, suffix);
    }

    private static string[] Lines(string text)
    {
        var lines = text.Split('\n');
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }

    private static string Replacement(string before, string after, string displayPath)
    {
        var (a, b, prefix, suffix) = Middle(before, after);
        var aMid = a.Length - prefix - suffix;
        var bMid = b.Length - prefix - suffix;
        var ctxBefore = Math.Min(ContextLines, prefix);
        var ctxAfter = Math.Min(ContextLines, suffix);
        var oldCount = ctxBefore + aMid + ctxAfter;
        var newCount = ctxBefore + bMid + ctxAfter;
        var oldStart = oldCount == 0 ? prefix - ctxBefore : prefix - ctxBefore + 1;
        var newStart = newCount == 0 ? prefix - ctxBefore : prefix - ctxBefore + 1;
        var text = new StringBuilder();
        text.Append("--- a").Append(displayPath).Append('\n');
        text.Append("+++ b").Append(displayPath).Append('\n');
        text.Append($"@@ -{oldStart},{oldCount} +{newStart},{newCount} @@\n");
        for (var i = prefix - ctxBefore; i < prefix; i++)
        {
            text.Append(' ').Append(a[i]).Append('\n');
        }
        for (var i = prefix; i < prefix + aMid; i++)
        {
            text.Append('-').Append(a[i]).Append('\n');
        }
        for (var i = prefix; i < prefix + bMid; i++)
        {
            text.Append('+').Append(b[i]).Append('\n');
        }
        for (var i = a.Length - suffix; i < a.Length - suffix + ctxAfter; i++)
        {
            text.Append(' ').Append(a[i]).Append('\n');
        }
        return text.ToString();
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
