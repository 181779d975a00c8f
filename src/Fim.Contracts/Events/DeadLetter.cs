using System.Globalization;

namespace Fim.Contracts;

/// <summary>
/// A message that could not be processed, as kept in FIM_DEADLETTER on <c>fim.deadletter.&lt;reason&gt;</c>: the
/// original bytes unchanged (they may not even be JSON) plus the headers below, which say why. Written by managers,
/// read by people and tools; the reasons and header names are the contract, pinned by a golden file.
/// </summary>
public sealed record DeadLetter(string Reason, string Detail)
{
    /// <summary>The body is larger than the manager's Fim:Pipeline:MaxEventBytes.</summary>
    public const string Oversized = "oversized";
    public const string MalformedJson = "malformed-json";
    /// <summary>schemaVersion missing or not one this manager reads.</summary>
    public const string UnknownSchema = "unknown-schema";
    /// <summary>A required field is missing or has a value outside its set (kind, source, changed...).</summary>
    public const string InvalidEvent = "invalid-event";
    /// <summary>eventId, host or policy is too long or holds control characters.</summary>
    public const string InvalidId = "invalid-id";
    /// <summary>The path is relative, holds a NUL byte, or is longer than <see cref="EventLimits.MaxPathLength"/>.</summary>
    public const string InvalidPath = "invalid-path";
    public const string AgentMismatch = "agent-mismatch";
    /// <summary>The alert publish failed on the last delivery the consumer allows: kept here instead of a nak into oblivion.</summary>
    public const string PublishFailed = "publish-failed";
    /// <summary>JetStream gave up on the event (max deliveries reached while no manager settled it): copied from the stream.</summary>
    public const string MaxDeliveries = "max-deliveries";
    public const string WebhookFailed = "webhook";

    public const string ReasonHeader = "Fim-Dead-Letter-Reason";
    public const string DetailHeader = "Fim-Dead-Letter-Detail";
    public const string SubjectHeader = "Fim-Original-Subject";
    public const string StreamHeader = "Fim-Original-Stream";
    public const string SequenceHeader = "Fim-Original-Sequence";
    public const string DeliveredHeader = "Fim-Original-Delivered";

    public static IReadOnlyList<string> Reasons { get; } =
        [Oversized, MalformedJson, UnknownSchema, InvalidEvent, InvalidId, InvalidPath, AgentMismatch, PublishFailed, MaxDeliveries, WebhookFailed];

    /// <summary>Nats-Msg-Id of the copy: one dead letter per original message, however often it was delivered.</summary>
    public static string MessageId(string stream, ulong sequence) => $"{stream}:{sequence.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The headers of the copy of message <paramref name="sequence"/> of <paramref name="stream"/>, published on <paramref name="subject"/>.</summary>
    public IReadOnlyDictionary<string, string> Headers(string subject, string? stream, ulong? sequence, ulong? delivered)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ReasonHeader] = Reason,
            [DetailHeader] = HeaderSafe(Detail),
            [SubjectHeader] = HeaderSafe(subject),
        };
        if (stream is not null)
        {
            headers[StreamHeader] = stream;
        }
        if (sequence is { } seq)
        {
            headers[SequenceHeader] = seq.ToString(CultureInfo.InvariantCulture);
        }
        if (delivered is { } count)
        {
            headers[DeliveredHeader] = count.ToString(CultureInfo.InvariantCulture);
        }
        return headers;
    }

    /// <summary>Header values are one line of printable text, and short.</summary>
    public static string HeaderSafe(string text)
    {
        var chars = text.Select(c => char.IsControl(c) || c > '~' ? ' ' : c).ToArray();
        var clean = new string(chars).Trim();
        return clean.Length <= 300 ? clean : clean[..300];
    }
}
