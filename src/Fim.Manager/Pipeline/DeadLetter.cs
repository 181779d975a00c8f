namespace Fim.Manager.Pipeline;

/// <summary>Why a message went to fim.deadletter.&lt;reason&gt;, and the headers that say so on the copy.</summary>
public sealed record DeadLetter(string Reason, string Detail)
{
    public const string Oversized = "oversized";
    public const string MalformedJson = "malformed-json";
    public const string UnknownSchema = "unknown-schema";
    public const string InvalidEvent = "invalid-event";
    public const string AgentMismatch = "agent-mismatch";
    public const string WebhookFailed = "webhook";

    public const string ReasonHeader = "Fim-Dead-Letter-Reason";
    public const string DetailHeader = "Fim-Dead-Letter-Detail";
    public const string SubjectHeader = "Fim-Original-Subject";
    public const string StreamHeader = "Fim-Original-Stream";
    public const string SequenceHeader = "Fim-Original-Sequence";
    public const string DeliveredHeader = "Fim-Original-Delivered";

    public static IReadOnlyList<string> Reasons { get; } = [Oversized, MalformedJson, UnknownSchema, InvalidEvent, AgentMismatch, WebhookFailed];

    /// <summary>Header values are one line of printable text, and short.</summary>
    public static string HeaderSafe(string text)
    {
        var chars = text.Select(c => char.IsControl(c) || c > '~' ? ' ' : c).ToArray();
        var clean = new string(chars).Trim();
        return clean.Length <= 300 ? clean : clean[..300];
    }
}
