using System.Text.Json;
using System.Text.Json.Serialization;
using Fim.Core.Events;

namespace Fim.Manager.Pipeline;

/// <summary>
/// Source-generated (reflection-free, faster) JSON for the hot path, with the same settings as <see cref="EventJson"/>
/// so the wire format is identical; a test checks that both write the same bytes.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(FileEvent))]
[JsonSerializable(typeof(Alert))]
internal sealed partial class ManagerJsonContext : JsonSerializerContext;

public static class ManagerJson
{
    public static byte[] Serialize(Alert alert) => JsonSerializer.SerializeToUtf8Bytes(alert, ManagerJsonContext.Default.Alert);

    public static FileEvent? DeserializeEvent(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, ManagerJsonContext.Default.FileEvent);
}
