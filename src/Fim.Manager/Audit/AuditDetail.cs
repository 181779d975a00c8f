using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;

namespace Fim.Manager.Audit;

/// <summary>
/// A request or response as the audit log keeps it: its JSON with every secret replaced by "[redacted]": string values
/// of fields named like a secret (secret, token, password, ...) and any value that is an API token text. Long text is
/// cut, so one call cannot flood the log.
/// </summary>
public static class AuditDetail
{
    public const string Redacted = "[redacted]";
    public const int MaxLength = 8192;

    private static readonly string[] SecretNames = ["secret", "token", "password", "passphrase", "seed", "credentials", "privatekey", "clientsecret"];

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    public static string Of(IMessage message)
    {
        var node = JsonNode.Parse(Formatter.Format(message));
        Redact(node);
        var json = node?.ToJsonString() ?? "{}";
        return json.Length <= MaxLength ? json : JsonSerializer.Serialize(new Truncated($"{json.Length} characters, cut", json[..MaxLength]), AuditDetailJson.Default.Truncated);
    }

    private static void Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o.ToList())
                {
                    if (value is JsonValue v && v.TryGetValue<string>(out var text) && (IsSecretName(name) || IsSecretValue(text)))
                    {
                        o[name] = Redacted;
                    }
                    else
                    {
                        Redact(value);
                    }
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (a[i] is JsonValue v && v.TryGetValue<string>(out var text) && IsSecretValue(text))
                    {
                        a[i] = Redacted;
                    }
                    else
                    {
                        Redact(a[i]);
                    }
                }
                break;
        }
    }

    private static bool IsSecretName(string name)
    {
        var n = name.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
        return SecretNames.Any(s => n == s || n.EndsWith(s, StringComparison.Ordinal)) && !n.EndsWith("id", StringComparison.Ordinal);
    }

    private static bool IsSecretValue(string text) => text.Contains(Security.ApiTokenFormat.Prefix, StringComparison.Ordinal);
}

internal sealed record Truncated(string Note, string Start);

[System.Text.Json.Serialization.JsonSerializable(typeof(Truncated))]
internal sealed partial class AuditDetailJson : System.Text.Json.Serialization.JsonSerializerContext;
