using System.Globalization;
using System.Text;
using Fim.Contracts;
using Fim.Manager.Api;

namespace Fim.Manager.Fleet;

/// <summary>Checks the fleet API's arguments; each refusal is InvalidArgument (HTTP 400) starting with the parameter's name.</summary>
public static class FleetArguments
{
    /// <summary>"" (active and disconnected), active, disconnected, removed or all.</summary>
    public static string Status(string value) =>
        value.Length == 0 || AgentLifecycle.Statuses.Contains(value) ? value
        : throw ApiArguments.Invalid($"status: '{Printable(value)}' is not one of {string.Join(", ", AgentLifecycle.Statuses)}");

    /// <summary>What a prune may remove: disconnected agents only.</summary>
    public static void PruneStatus(string value)
    {
        if (value is "" or AgentLifecycle.Disconnected)
        {
            return;
        }
        throw ApiArguments.Invalid(value switch
        {
            AgentLifecycle.Active => "status: active agents are never removed; only status=disconnected can be pruned",
            AgentLifecycle.Removed => "status: removed agents are already removed; only status=disconnected can be pruned",
            _ => $"status: '{Printable(value)}' is not a status that can be pruned; only status=disconnected can be",
        });
    }

    /// <summary>A duration such as 90s, 15m, 12h, 7d or 1500ms; <paramref name="field"/> names it in errors.</summary>
    public static TimeSpan Duration(string value, string field)
    {
        if (value.Length == 0)
        {
            throw ApiArguments.Invalid($"{field}: is required (a duration such as 30s, 15m, 12h or 7d)");
        }
        if (!TryParseDuration(value, out var span))
        {
            throw ApiArguments.Invalid(value.StartsWith('-')
                ? $"{field}: must not be negative, got '{Printable(value)}'"
                : $"{field}: '{Printable(value)}' is not a duration such as 30s, 15m, 12h or 7d");
        }
        return span;
    }

    public static bool TryParseDuration(string value, out TimeSpan span)
    {
        span = default;
        var unitStart = 0;
        while (unitStart < value.Length && (char.IsAsciiDigit(value[unitStart]) || value[unitStart] == '.'))
        {
            unitStart++;
        }
        if (unitStart == 0 || unitStart == value.Length || unitStart > 12
            || !double.TryParse(value.AsSpan(0, unitStart), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n))
        {
            return false;
        }
        double? ms = value[unitStart..] switch
        {
            "ms" => n,
            "s" => n * 1000,
            "m" => n * 60_000,
            "h" => n * 3_600_000,
            "d" => n * 86_400_000,
            "w" => n * 7 * 86_400_000,
            _ => null,
        };
        // Up to about 27 years: beyond is a typo, not a retention.
        if (ms is not { } millis || millis > 10_000d * 86_400_000)
        {
            return false;
        }
        span = TimeSpan.FromMilliseconds(millis);
        return true;
    }

    /// <summary>The query's deadline: the manager's default when empty, refused above its maximum.</summary>
    public static TimeSpan Timeout(string value, FleetOptions options)
    {
        if (value.Length == 0)
        {
            return options.QueryTimeout;
        }
        var span = Duration(value, "timeout");
        return span < TimeSpan.FromMilliseconds(100) ? throw ApiArguments.Invalid($"timeout: must be at least 100ms, got '{Printable(value)}'")
            : span > options.MaxQueryTimeout ? throw ApiArguments.Invalid($"timeout: must be at most {Format(options.MaxQueryTimeout)}, got '{Printable(value)}'")
            : span;
    }

    /// <summary>An absolute path with no NUL and no empty, "." or ".." component (agents refuse those too).</summary>
    public static string Path(string value)
    {
        var path = ApiArguments.Path(value);
        if (!Fim.Core.Scanning.PathInspector.IsCanonical(Encoding.UTF8.GetBytes(path)))
        {
            throw ApiArguments.Invalid("path: must not contain empty, '.' or '..' components (e.g. '//', '/./', '/../') or end with '/'");
        }
        return path;
    }

    public static LabelSelector Selector(string value) =>
        LabelSelectorText.Parse(value, out var problem) ?? throw ApiArguments.Invalid($"selector: {Printable(problem ?? "invalid")}");

    public static string Format(TimeSpan span) =>
        span.TotalDays >= 1 && span.TotalDays == Math.Floor(span.TotalDays) ? $"{span.TotalDays}d"
        : span.TotalSeconds >= 1 && span.TotalSeconds == Math.Floor(span.TotalSeconds) ? $"{span.TotalSeconds}s"
        : $"{span.TotalMilliseconds}ms";

    /// <summary>Caller text echoed in an error, without control characters.</summary>
    private static string Printable(string text) =>
        Fim.Contracts.Text.TerminalText.Escape(text.Length > 100 ? text[..100] + "..." : text);
}
