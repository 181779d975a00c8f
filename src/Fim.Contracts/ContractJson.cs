using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// The one JSON shape of every contract record: camelCase, no indentation, nulls written unless a property says
/// otherwise, unknown members skipped (a newer writer may add fields). Source-generated: no reflection, and the
/// same code on every side of the wire.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(FileEvent))]
[JsonSerializable(typeof(Alert))]
[JsonSerializable(typeof(AlertIndexFields))]
[JsonSerializable(typeof(FileState))]
[JsonSerializable(typeof(Heartbeat))]
[JsonSerializable(typeof(UnreviewedAlerts))]
[JsonSerializable(typeof(PolicyDocument))]
[JsonSerializable(typeof(LabelSelector))]
[JsonSerializable(typeof(AgentCommand))]
[JsonSerializable(typeof(AgentReply))]
[JsonSerializable(typeof(EnrollRequest))]
[JsonSerializable(typeof(EnrollReply))]
[JsonSerializable(typeof(AgentIdentityRecord))]
[JsonSerializable(typeof(JoinTokenRecord))]
[JsonSerializable(typeof(MaintenanceWindow))]
[JsonSerializable(typeof(AgentRemoval))]
[JsonSerializable(typeof(Notification))]
[JsonSerializable(typeof(ScanRecord))]
[JsonSerializable(typeof(JoinToken.Wire), TypeInfoPropertyName = "JoinTokenWire")]
public sealed partial class ContractJson : JsonSerializerContext
{
    public static byte[] ToUtf8(FileEvent e) => e is Alert a
        ? JsonSerializer.SerializeToUtf8Bytes(a, Default.Alert)
        : JsonSerializer.SerializeToUtf8Bytes(e, Default.FileEvent);

    public static string ToText(FileEvent e) => e is Alert a
        ? JsonSerializer.Serialize(a, Default.Alert)
        : JsonSerializer.Serialize(e, Default.FileEvent);

    public static byte[] ToUtf8(Heartbeat h) => JsonSerializer.SerializeToUtf8Bytes(h, Default.Heartbeat);

    public static byte[] ToUtf8(PolicyDocument d) => JsonSerializer.SerializeToUtf8Bytes(d, Default.PolicyDocument);

    public static byte[] ToUtf8(AgentCommand c) => JsonSerializer.SerializeToUtf8Bytes(c, Default.AgentCommand);

    public static byte[] ToUtf8(AgentReply r) => JsonSerializer.SerializeToUtf8Bytes(r, Default.AgentReply);

    public static byte[] ToUtf8(ScanRecord s) => JsonSerializer.SerializeToUtf8Bytes(s, Default.ScanRecord);

    public static byte[] ToUtf8(Notification n) => JsonSerializer.SerializeToUtf8Bytes(n, Default.Notification);

    public static byte[] ToUtf8(UnreviewedAlerts u) => JsonSerializer.SerializeToUtf8Bytes(u, Default.UnreviewedAlerts);

    /// <summary>A scan record, or null when the bytes are not one.</summary>
    public static ScanRecord? ReadScan(ReadOnlySpan<byte> json) => ReadOrNull(json, Default.ScanRecord);

    /// <summary>An unreviewed-alerts count, or null when the value is not one.</summary>
    public static UnreviewedAlerts? ReadUnreviewedAlerts(ReadOnlySpan<byte> json) => ReadOrNull(json, Default.UnreviewedAlerts);

    /// <summary>A heartbeat, or null when the value is not one (a broken agent must not break its readers).</summary>
    public static Heartbeat? ReadHeartbeat(ReadOnlySpan<byte> json) => ReadOrNull(json, Default.Heartbeat);

    private static T? ReadOrNull<T>(ReadOnlySpan<byte> json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(json, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
