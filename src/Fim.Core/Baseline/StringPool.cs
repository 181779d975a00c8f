using System.Text.Unicode;

namespace Fim.Core.Baseline;

/// <summary>
/// Shares one string instance per distinct owner or group name while a store loads: a million records
/// usually carry a handful of names, and one copy per record would cost tens of megabytes.
/// </summary>
internal sealed class StringPool
{
    private const int MaxPooledChars = 128;
    private const int MaxEntries = 65536;
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public StringPool() => _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();

    public string Get(ReadOnlySpan<byte> utf8, string field)
    {
        if (utf8.Length > MaxPooledChars)
        {
            return FileRecordCodec.DecodeUtf8(utf8, field);
        }
        Span<char> chars = stackalloc char[MaxPooledChars];
        if (Utf8.ToUtf16(utf8, chars, out _, out var written, replaceInvalidSequences: false) != System.Buffers.OperationStatus.Done)
        {
            throw new FormatException($"'{field}' is not valid UTF-8");
        }
        var span = chars[..written];
        if (_lookup.TryGetValue(span, out var existing))
        {
            return existing;
        }
        var s = span.ToString();
        if (_strings.Count < MaxEntries)
        {
            _strings[s] = s;
        }
        return s;
    }
}
