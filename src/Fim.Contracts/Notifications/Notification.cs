using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// Something people should hear about that is not a file change: a manager pool scaled (and why), the summary of a node's
/// maintenance hold-off. Published to stream FIM_NOTIFICATIONS on fim.notifications.&lt;kind&gt; with Nats-Msg-Id =
/// <see cref="Id"/> (so a retried or raced publish is stored once); the managers' webhook sink posts <see cref="Text"/>.
/// Written by the operator (pool-scaled) and the managers (maintenance-summary).
/// </summary>
public sealed class Notification
{
    public const int CurrentSchemaVersion = 1;

    public const string Stream = "FIM_NOTIFICATIONS";
    public const string AllSubjects = "fim.notifications.>";

    /// <summary>A pool's desired replicas changed; <see cref="Details"/> says from, to and why.</summary>
    public const string PoolScaled = "pool-scaled";

    /// <summary>A maintenance window that asked for a summary closed; <see cref="Details"/> has the counts.</summary>
    public const string MaintenanceSummary = "maintenance-summary";

    /// <summary>The subject a notification of <paramref name="kind"/> is published to.</summary>
    public static string Subject(string kind) => "fim.notifications." + kind;

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    /// <summary>Unique per thing reported (e.g. pool-scaled:&lt;ns&gt;/&lt;pool&gt;:&lt;generation&gt;:&lt;from&gt;-&lt;to&gt;); the message id.</summary>
    public string Id { get; set; } = "";
    /// <summary><see cref="PoolScaled"/> or <see cref="MaintenanceSummary"/>; a subject token.</summary>
    public string Kind { get; set; } = "";
    public DateTimeOffset Time { get; set; }
    /// <summary>Who sent it: fim-operator, fim-manager.</summary>
    public string Source { get; set; } = "";
    /// <summary>What it is about: the pool (namespace/name), the node or the window.</summary>
    public string Regarding { get; set; } = "";
    /// <summary>One line for people (the webhook's text).</summary>
    public string Text { get; set; } = "";
    /// <summary>The same as fields, for machines (values as text).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, string>? Details { get; set; }
}
