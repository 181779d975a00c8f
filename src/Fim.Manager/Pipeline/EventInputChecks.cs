using Fim.Contracts;

namespace Fim.Manager.Pipeline;

/// <summary>
/// The hostile-input checks of one parsed event, before anything uses its fields as keys, message ids or output: ids
/// bounded and free of control characters, the path absolute, NUL-free and bounded. Control characters in a path are
/// allowed (a file name may hold them, and such a file is exactly what must be reported); outputs escape them.
/// </summary>
public static class EventInputChecks
{
    public static DeadLetter? Check(FileEvent e) =>
        Id("eventId", e.EventId, EventLimits.MaxEventIdLength)
        ?? Id("host", e.Host, EventLimits.MaxHostLength)
        ?? (e.Policy is null ? null : Id("policy", e.Policy, EventLimits.MaxPolicyLength))
        ?? PathProblem(e);

    private static DeadLetter? Id(string field, string value, int max)
    {
        if (value.Length > max)
        {
            return new DeadLetter(DeadLetter.InvalidId, $"{field}: {value.Length} characters, more than the {max} allowed");
        }
        var control = EventLimits.IndexOfControl(value);
        return control < 0 ? null
            : new DeadLetter(DeadLetter.InvalidId, $"{field}: control character U+{(int)value[control]:X4} at position {control}");
    }

    private static DeadLetter? PathProblem(FileEvent e)
    {
        if (e.Path.Length > EventLimits.MaxPathLength)
        {
            return new DeadLetter(DeadLetter.InvalidPath, $"path: {e.Path.Length} characters, more than the {EventLimits.MaxPathLength} allowed");
        }
        if (!e.Path.StartsWith('/'))
        {
            return new DeadLetter(DeadLetter.InvalidPath, "path: must be absolute (start with '/')");
        }
        if (e.Path.Contains('\0', StringComparison.Ordinal))
        {
            return new DeadLetter(DeadLetter.InvalidPath, "path: holds a NUL character, which no Linux path can");
        }
        if (e.PathBase64 is { } b64)
        {
            var bytes = Convert.FromBase64String(b64);
            if (bytes.Length == 0 || bytes[0] != (byte)'/' || bytes.AsSpan().Contains((byte)0))
            {
                return new DeadLetter(DeadLetter.InvalidPath, "pathBase64: must be an absolute path without NUL bytes");
            }
        }
        return null;
    }
}
