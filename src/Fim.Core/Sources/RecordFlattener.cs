using System.Globalization;
using System.Text.Json;
using Fim.Contracts;

namespace Fim.Core.Sources;

/// <summary>
/// Every scalar of a JSON object by its dotted path, for rules: nested objects join their keys with dots (Falco's
/// output_fields keys already hold dots: <c>output_fields.proc.name</c>), arrays number their items
/// (<c>resources.0.uid</c>), an array of plain strings is also kept whole, comma-joined, under its own path (Falco's tags).
/// Bounded by <see cref="SecurityRecord.MaxFields"/> and <see cref="SecurityRecord.MaxValueLength"/>.
/// </summary>
internal static class RecordFlattener
{
    private const int MaxDepth = 16;

    public static void Flatten(JsonElement root, SecurityRecord record)
    {
        Walk(root, "", record, 0);
    }

    private static void Walk(JsonElement e, string prefix, SecurityRecord record, int depth)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                if (depth >= MaxDepth)
                {
                    record.FieldsTruncated = true;
                    return;
                }
                foreach (var p in e.EnumerateObject())
                {
                    Walk(p.Value, prefix.Length == 0 ? p.Name : prefix + "." + p.Name, record, depth + 1);
                }
                break;
            case JsonValueKind.Array:
                if (depth >= MaxDepth)
                {
                    record.FieldsTruncated = true;
                    return;
                }
                var i = 0;
                var allStrings = true;
                foreach (var item in e.EnumerateArray())
                {
                    allStrings &= item.ValueKind == JsonValueKind.String;
                    Walk(item, prefix + "." + i.ToString(CultureInfo.InvariantCulture), record, depth + 1);
                    i++;
                }
                if (allStrings && i > 0)
                {
                    Add(record, prefix, string.Join(",", e.EnumerateArray().Select(x => x.GetString())));
                }
                break;
            case JsonValueKind.String:
                Add(record, prefix, e.GetString() ?? "");
                break;
            case JsonValueKind.Number:
                Add(record, prefix, e.GetRawText());
                break;
            case JsonValueKind.True:
                Add(record, prefix, "true");
                break;
            case JsonValueKind.False:
                Add(record, prefix, "false");
                break;
            default:
                // null: a field that says nothing is left out, so "exists" means a value is there.
                break;
        }
    }

    private static void Add(SecurityRecord record, string key, string value)
    {
        if (record.Fields.Count >= SecurityRecord.MaxFields)
        {
            record.FieldsTruncated = true;
            return;
        }
        if (value.Length > SecurityRecord.MaxValueLength)
        {
            value = value[..SecurityRecord.MaxValueLength];
            record.FieldsTruncated = true;
        }
        record.Fields.TryAdd(key, value);
    }
}
