using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fim.Core.Events;

/// <summary>The one JSON shape of events and alerts: camelCase, kinds as strings, no indentation.</summary>
public static class EventJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    public static string Serialize(FileEvent e) => JsonSerializer.Serialize(e, e.GetType(), Options);

    public static byte[] SerializeToUtf8(FileEvent e) => JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), Options);
}
