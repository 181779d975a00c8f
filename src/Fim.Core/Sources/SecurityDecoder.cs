using System.Globalization;
using System.Text.Json;
using Fim.Contracts;

namespace Fim.Core.Sources;

/// <summary>Why a line is not a record: a short reason for counters and logs (never the line itself, which may hold secrets).</summary>
public sealed record DecodeProblem(string Reason, string Detail);

/// <summary>A decoded record or why the line is not one.</summary>
public readonly record struct DecodeResult(SecurityRecord? Record, DecodeProblem? Problem)
{
    /// <summary>A line that carries no record by design (blank, or the "[" / "]" around a JSON array written one object per line).</summary>
    public bool Skipped => Record is null && Problem is null;
}

/// <summary>
/// Turns one JSON line of a security tool into a <see cref="SecurityRecord"/>: Falco (json_output, http_output and
/// falcosidekick's webhook all send the same object), Prowler's JSON-OCSF finding, or any JSON object. The line must be
/// UTF-8 JSON holding one object; a trailing comma (an array written one finding per line) is allowed.
/// </summary>
public static class SecurityDecoder
{
    public const string NotJson = "not-json";
    public const string NotObject = "not-an-object";
    public const string MissingField = "missing-field";
    public const string TooLong = "too-long";

    /// <summary>The longest line read; longer lines are skipped whole and counted.</summary>
    public const int MaxLineBytes = 1024 * 1024;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    public static bool IsFormat(string format) => SecurityRecord.Formats.Contains(format, StringComparer.Ordinal);

    public static DecodeResult Decode(string format, ReadOnlySpan<byte> line)
    {
        line = Trim(line);
        if (line.IsEmpty || line.SequenceEqual("["u8) || line.SequenceEqual("]"u8))
        {
            return default;
        }
        if (line.Length > MaxLineBytes)
        {
            return Bad(TooLong, $"{line.Length} bytes, more than the {MaxLineBytes} read");
        }
        if (line[^1] == (byte)',')
        {
            line = Trim(line[..^1]);
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line.ToArray(), Options);
        }
        catch (JsonException e)
        {
            return Bad(NotJson, $"not JSON ({FirstSentence(e.Message)})");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Bad(NotObject, $"a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object");
            }
            return format switch
            {
                SecurityRecord.Falco => Falco(root),
                SecurityRecord.Prowler => Prowler(root),
                SecurityRecord.Json => Generic(root),
                _ => throw new ArgumentException($"unknown format '{format}'; known: {string.Join(", ", SecurityRecord.Formats)}", nameof(format)),
            };
        }
    }

    private static DecodeResult Falco(JsonElement root)
    {
        var rule = Text(root, "rule");
        var priority = Text(root, "priority");
        if (rule is null || priority is null)
        {
            return Bad(MissingField, $"a Falco event has 'rule' and 'priority'; this one lacks {(rule is null ? "'rule'" : "'priority'")}");
        }
        var r = new SecurityRecord
        {
            Format = SecurityRecord.Falco,
            Time = Time(root, "time"),
            Title = rule,
            Severity = priority,
            Message = Text(root, "output"),
            Hostname = Text(root, "hostname"),
            EventSource = Text(root, "source"),
            Tags = Strings(root, "tags"),
        };
        RecordFlattener.Flatten(root, r);
        return new DecodeResult(r, null);
    }

    private static DecodeResult Prowler(JsonElement root)
    {
        var status = Text(root, "status_code");
        var severity = Text(root, "severity");
        if (status is null || severity is null)
        {
            return Bad(MissingField, $"a Prowler OCSF finding has 'status_code' and 'severity'; this one lacks {(status is null ? "'status_code'" : "'severity'")}");
        }
        var resource = root.TryGetProperty("resources", out var resources) && resources.ValueKind == JsonValueKind.Array && resources.GetArrayLength() > 0
            ? resources[0] : default;
        var r = new SecurityRecord
        {
            Format = SecurityRecord.Prowler,
            Time = Time(root, "time_dt") ?? Time(root, "time"),
            Title = Text(root, "finding_info", "title") ?? Text(root, "metadata", "event_code"),
            Severity = severity,
            Status = status,
            Message = Text(root, "status_detail") ?? Text(root, "message"),
            Resource = resource.ValueKind == JsonValueKind.Object ? Text(resource, "uid") ?? Text(resource, "name") : null,
            CloudProvider = Text(root, "cloud", "provider"),
            CloudAccount = Text(root, "cloud", "account", "uid"),
            Region = Text(root, "cloud", "region") ?? (resource.ValueKind == JsonValueKind.Object ? Text(resource, "region") : null),
        };
        RecordFlattener.Flatten(root, r);
        return new DecodeResult(r, null);
    }

    private static DecodeResult Generic(JsonElement root)
    {
        var r = new SecurityRecord
        {
            Format = SecurityRecord.Json,
            Time = Time(root, "@timestamp") ?? Time(root, "time") ?? Time(root, "timestamp"),
            Title = Text(root, "rule") ?? Text(root, "title") ?? Text(root, "event"),
            Severity = Text(root, "severity") ?? Text(root, "level") ?? Text(root, "priority"),
            Message = Text(root, "message") ?? Text(root, "msg"),
            Hostname = Text(root, "hostname") ?? Text(root, "host"),
        };
        RecordFlattener.Flatten(root, r);
        return new DecodeResult(r, null);
    }

    private static string? Text(JsonElement e, params string[] path)
    {
        foreach (var name in path)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out e))
            {
                return null;
            }
        }
        var text = e.ValueKind switch
        {
            JsonValueKind.String => e.GetString(),
            JsonValueKind.Number => e.GetRawText(),
            _ => null,
        };
        return string.IsNullOrEmpty(text) ? null
            : text.Length > SecurityRecord.MaxValueLength ? text[..SecurityRecord.MaxValueLength] : text;
    }

    private static List<string> Strings(JsonElement e, string name) =>
        e.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array
            ? [.. a.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).Take(64)]
            : [];

    /// <summary>An ISO 8601 text (Falco's nanoseconds are cut to what DateTimeOffset holds) or Unix seconds.</summary>
    private static DateTimeOffset? Time(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var t))
        {
            return null;
        }
        if (t.ValueKind == JsonValueKind.Number && t.TryGetInt64(out var seconds) && seconds is > 0 and < 253402300800)
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds);
        }
        if (t.ValueKind != JsonValueKind.String || t.GetString() is not { } text)
        {
            return null;
        }
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            // .NET parses at most seven fraction digits; Falco writes nine.
            var end = dot + 1;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }
            if (end - dot - 1 > 7)
            {
                text = text[..(dot + 8)] + text[end..];
            }
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time : null;
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> s)
    {
        var start = 0;
        while (start < s.Length && s[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            start++;
        }
        var end = s.Length;
        while (end > start && s[end - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            end--;
        }
        return s[start..end];
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    private static DecodeResult Bad(string reason, string detail) => new(null, new DecodeProblem(reason, detail));
}
