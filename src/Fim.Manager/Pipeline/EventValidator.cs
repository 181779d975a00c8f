using System.Text.Json;
using Fim.Contracts;
using Fim.Core.Model;

namespace Fim.Manager.Pipeline;

/// <summary>
/// Checks one message from FIM_EVENTS before anything trusts it: size, JSON shape, schema version (present and known),
/// required fields, bounded ids and absolute paths (<see cref="EventInputChecks"/>), and that the agent id inside is the one in the subject (agents may only publish to their own subject, so the
/// subject is the authenticated identity and the body must agree with it).
/// </summary>
public sealed class EventValidator(int maxEventBytes)
{
    public EventValidation Validate(string subject, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > maxEventBytes)
        {
            return Bad(DeadLetter.Oversized, $"{payload.Length} bytes, more than the {maxEventBytes} allowed");
        }
        FileEvent? e;
        try
        {
            e = ManagerJson.DeserializeEvent(payload);
        }
        catch (JsonException ex)
        {
            return Bad(DeadLetter.MalformedJson, ex.Message);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or InvalidOperationException)
        {
            return Bad(DeadLetter.MalformedJson, ex.Message);
        }
        if (e is null)
        {
            return Bad(DeadLetter.MalformedJson, "the payload is JSON null, not an event object");
        }
        if (e.SchemaVersion == ManagerJson.MissingSchemaVersion)
        {
            return Bad(DeadLetter.UnknownSchema, "schemaVersion: is missing");
        }
        if (e.SchemaVersion != FileEvent.CurrentSchemaVersion)
        {
            return Bad(DeadLetter.UnknownSchema, $"schemaVersion {e.SchemaVersion}; this manager reads {FileEvent.CurrentSchemaVersion}");
        }
        if (FirstInvalidField(e) is { } problem)
        {
            return Bad(DeadLetter.InvalidEvent, problem);
        }
        if (EventInputChecks.Check(e) is { } hostile)
        {
            return new EventValidation(null, hostile);
        }
        var subjectAgent = subject.StartsWith(Subjects.EventsPrefix, StringComparison.Ordinal) ? subject.AsSpan(Subjects.EventsPrefix.Length) : subject;
        if (!subjectAgent.SequenceEqual(e.AgentId))
        {
            return Bad(DeadLetter.AgentMismatch, $"agentId '{e.AgentId}' published on {subject}");
        }
        return new EventValidation(e, null);
    }

    private static string? FirstInvalidField(FileEvent e)
    {
        if (string.IsNullOrEmpty(e.EventId))
        {
            return "eventId: is required";
        }
        if (!Subjects.IsValidAgentId(e.AgentId))
        {
            return "agentId: must match [a-z0-9_-]+";
        }
        if (string.IsNullOrEmpty(e.Path))
        {
            return "path: is required";
        }
        if (!ChangeKindNames.TryParse(e.Kind, out _))
        {
            return $"kind: unknown change kind '{e.Kind}'";
        }
        if (e.Kind == FileEvent.SecurityKind)
        {
            if (e.Record is null)
            {
                return "record: is required for an event of kind security";
            }
            if (!SecurityRecord.Formats.Contains(e.Record.Format, StringComparer.Ordinal) || e.Source != e.Record.Format)
            {
                return $"source: a security event's source is its record's format ({string.Join(", ", SecurityRecord.Formats)}), got source '{e.Source}' and format '{e.Record.Format}'";
            }
        }
        else if (e.Source is not ("scan" or "realtime"))
        {
            return $"source: must be scan or realtime, got '{e.Source}'";
        }
        if (e.ObservedAt == default)
        {
            return "observedAt: is required";
        }
        if (e.Changed is null)
        {
            return "changed: must be a list";
        }
        if (e.PathBase64 is not null && !System.Buffers.Text.Base64.IsValid(e.PathBase64))
        {
            return "pathBase64: is not base64";
        }
        return null;
    }

    private static EventValidation Bad(string reason, string detail) => new(null, new DeadLetter(reason, detail));
}

/// <summary>Either a valid event or why it is not one.</summary>
public readonly record struct EventValidation(FileEvent? Event, DeadLetter? Problem);
