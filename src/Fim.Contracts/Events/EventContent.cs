using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Fim.Contracts;

/// <summary>
/// The one canonical byte form of a file event, which the agent signs and both sides digest. It is the event's JSON
/// object with its members in the order written, without the top-level "publishedAt" (set at each publish attempt, so a retry must
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

    [ThreadStatic]
    private static HashSet<string>? t_topLevelNames;

    /// <summary>The prefix and the canonical JSON. Throws <see cref="FormatException"/> when the payload is no JSON object.</summary>
    /// <remarks>
    /// Copied token by token (every manager does this for every event, so no document tree): strings and names are
    /// unescaped and written again with the writer's default escaping, numbers keep their text. A member name used twice
    /// at the top level is refused: two readers could see two different events.
    /// </remarks>
    public static byte[] SigningInput(ReadOnlySpan<byte> eventJson)
    {
        var output = new ArrayBufferWriter<byte>(DomainBytes.Length + eventJson.Length);
        output.Write(DomainBytes);
        try
        {
            using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = false, SkipValidation = false });
            var reader = new Utf8JsonReader(eventJson, new JsonReaderOptions { MaxDepth = 32 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new FormatException("the event is not a JSON object");
            }
            writer.WriteStartObject();
            var topLevelNames = t_topLevelNames ??= new HashSet<string>(StringComparer.Ordinal);
            topLevelNames.Clear();
            while (reader.Read())
            {
                if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (!topLevelNames.Add(reader.GetString()!))
                    {
                        throw new FormatException($"the event is not canonical JSON: member \"{reader.GetString()}\" appears twice");
                    }
                    if (reader.ValueTextEquals("publishedAt"u8))
                    {
                        reader.Read();
                        reader.Skip();
                        continue;
                    }
                }
                CopyToken(ref reader, writer);
            }
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw new FormatException($"the event is not canonical JSON: {e.Message}", e);
        }
        return output.WrittenSpan.ToArray();
    }

    private static void CopyToken(ref Utf8JsonReader reader, Utf8JsonWriter writer)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject: writer.WriteStartObject(); break;
            case JsonTokenType.EndObject: writer.WriteEndObject(); break;
            case JsonTokenType.StartArray: writer.WriteStartArray(); break;
            case JsonTokenType.EndArray: writer.WriteEndArray(); break;
            case JsonTokenType.PropertyName: WriteUnescaped(ref reader, writer, name: true); break;
            case JsonTokenType.String: WriteUnescaped(ref reader, writer, name: false); break;
            case JsonTokenType.Number: writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true); break;
            case JsonTokenType.True: writer.WriteBooleanValue(true); break;
            case JsonTokenType.False: writer.WriteBooleanValue(false); break;
            case JsonTokenType.Null: writer.WriteNullValue(); break;
            default: throw new FormatException($"the event is not canonical JSON: unexpected {reader.TokenType}");
        }
    }

    private static void WriteUnescaped(ref Utf8JsonReader reader, Utf8JsonWriter writer, bool name)
    {
        byte[]? rented = null;
        Span<byte> scratch = stackalloc byte[256];
        try
        {
            scoped ReadOnlySpan<byte> text = reader.ValueSpan;
            if (reader.ValueIsEscaped)
            {
                // Unescaped text is never longer than its escaped form.
                var buffer = reader.ValueSpan.Length <= scratch.Length ? scratch : (rented = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length));
                text = buffer[..reader.CopyString(buffer)];
            }
            if (name)
            {
                writer.WritePropertyName(text);
            }
            else
            {
                writer.WriteStringValue(text);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Lower-case hex SHA-256 of <see cref="SigningInput"/>: what "the same event" means for deduplication.</summary>
    public static string Digest(ReadOnlySpan<byte> signingInput) => Convert.ToHexStringLower(SHA256.HashData(signingInput));

    /// <summary>
    /// Nats-Msg-Id of a published event: its id plus its content digest, so a message with a guessed id but other content
    /// is a different message to JetStream and cannot make the genuine one a "duplicate".
    /// </summary>
    public static string MessageId(string eventId, string digest) => $"{eventId}#{digest}";
}
