using System.Text;

namespace Fim.Manager.Store;

/// <summary>
/// An alert's labels as the store's <c>labels</c> column holds them: <c>\nkey=value\n...\nkey=value\n</c>, keys in
/// ordinal order, "" for none. '%', '=', line feed and NUL inside a key or value are percent-encoded, so a line feed
/// only ever starts or ends a pair and '=' only ever ends a key: <see cref="Pair"/> and <see cref="Key"/> are then found
/// by plain substring search (instr, strpos) exactly where a label has that key (and value), with nothing interpreted.
/// </summary>
public static class StoredLabels
{
    public static string Encode(IReadOnlyDictionary<string, string>? labels)
    {
        if (labels is null || labels.Count == 0)
        {
            return "";
        }
        var text = new StringBuilder("\n");
        foreach (var (key, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            text.Append(Escape(key)).Append('=').Append(Escape(value)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>What the column holds exactly when the alert has label <paramref name="key"/> with <paramref name="value"/>.</summary>
    public static string Pair(string key, string value) => "\n" + Escape(key) + "=" + Escape(value) + "\n";

    /// <summary>What the column holds exactly when the alert has label <paramref name="key"/>, whatever its value.</summary>
    public static string Key(string key) => "\n" + Escape(key) + "=";

    private static string Escape(string s) =>
        s.AsSpan().IndexOfAny("%=\n\0") < 0 ? s
        : s.Replace("%", "%25", StringComparison.Ordinal).Replace("=", "%3D", StringComparison.Ordinal)
            .Replace("\n", "%0A", StringComparison.Ordinal).Replace("\0", "%00", StringComparison.Ordinal);
}
