using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fim.Contracts;

/// <summary>
/// The one canonical byte form of a file event, which the agent signs and both sides digest. It is the event's JSON
/// object with its members in the order written, without "publishedAt" (set at each publish attempt, so a retry must
/// not change the content), written compactly by System.Text.Json with its default escaping, after the domain prefix
/// <see cref="Domain"/>. Members this version does not know stay in: a newer agent's fields are covered too.
/// Golden files in tests/Fim.Contracts.Tests pin the bytes.
/// </summary>
public static class EventContent
{
    /// <summary>Separates these signatures from any other use of the agent's key.</summary>
    public const string Domain = "fim-event-v1\n";

    /// <summary>NATS header with the agent's Ed25519 signature of <see cref="SigningInput"/>, base64url without padding.</summary>
    public const string SignatureHeader = "Fim-Signature";

    private static readonly byte[] DomainBytes = Encoding.ASCII.GetBytes(Domain);

    /// <summary>The prefix and the canonical JSON. Throws <see cref="FormatException"/> when the payload is no JSON object.</summary>
    public static byte[] SigningInput(ReadOnlySpan<byte> eventJson)
    {
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(eventJson, new JsonNodeOptions { PropertyNameCaseInsensitive = false }, new JsonDocumentOptions { MaxDepth = 32 }) as JsonObject
                ?? throw new FormatException("the event is not a JSON object");
            // Members are read lazily: touch them here so a duplicate name is refused now.
            obj.Remove("publishedAt");
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            // JsonObject refuses duplicate member names (ArgumentException): two readers could see two different events.
            throw new FormatException($"the event is not canonical JSON: {e.Message}", e);
        }
        using var buffer = new MemoryStream();
        buffer.Write(DomainBytes);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, SkipValidation = false }))
        {
            obj.WriteTo(writer);
        }
        return buffer.ToArray();
    }

    /// <summary>Lower-case hex SHA-256 of <see cref="SigningInput"/>: what "the same event" means for deduplication.</summary>
    public static string Digest(ReadOnlySpan<byte> signingInput) => Convert.ToHexStringLower(SHA256.HashData(signingInput));

    /// <summary>
    /// Nats-Msg-Id of a published event: its id plus its content digest, so a message with a guessed id but other content
    /// is a different message to JetStream and cannot make the genuine one a "duplicate".
    /// </summary>
    public static string MessageId(string eventId, string digest) => $"{eventId}#{digest}";
}
