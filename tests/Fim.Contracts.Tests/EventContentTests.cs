using Fim.Testing;
using System.Text;

namespace Fim.Contracts.Tests;

/// <summary>
/// The canonical byte form agents sign and managers verify, pinned: a change here makes every signature of every
/// agent in the field fail, so it must be deliberate (a new <see cref="EventContent.Domain"/>).
/// </summary>
public sealed class EventContentTests
{
    private static readonly string Folder = Repository.File("tests/Fim.Contracts.Tests/Golden");

    [Fact]
    public void Signing_input_and_digest_of_the_sample_event_are_pinned()
    {
        var payload = ContractJson.ToUtf8(Samples.Event());
        var input = EventContent.SigningInput(payload);
        var text = Encoding.UTF8.GetString(input) + "\n" + EventContent.Digest(input) + "\n";
        var path = Path.Combine(Folder, "event-signing-input.txt");
        if (GoldenFile.Updating)
        {
            File.WriteAllText(path, text);
        }
        Assert.Equal(File.ReadAllText(path), text);
    }

    [Fact]
    public void PublishedAt_is_not_content_so_a_retried_publish_is_the_same_message()
    {
        var e = Samples.Event();
        e.PublishedAt = DateTimeOffset.Parse("2026-01-01T00:00:00Z");
        var first = EventContent.Digest(EventContent.SigningInput(ContractJson.ToUtf8(e)));
        e.PublishedAt = DateTimeOffset.Parse("2026-01-01T00:00:09Z");
        Assert.Equal(first, EventContent.Digest(EventContent.SigningInput(ContractJson.ToUtf8(e))));
        e.Path = "/etc/other";
        Assert.NotEqual(first, EventContent.Digest(EventContent.SigningInput(ContractJson.ToUtf8(e))));
    }

    [Fact]
    public void Unknown_members_are_covered_and_duplicate_members_are_refused()
    {
        var plain = EventContent.SigningInput("""{"eventId":"a"}"""u8);
        var extended = EventContent.SigningInput("""{"eventId":"a","newField":1}"""u8);
        Assert.NotEqual(EventContent.Digest(plain), EventContent.Digest(extended));
        Assert.Throws<FormatException>(() => EventContent.SigningInput("""{"eventId":"a","eventId":"b"}"""u8));
        Assert.Throws<FormatException>(() => EventContent.SigningInput("[1]"u8));
    }

    [Theory]
    [InlineData("""{ "eventId" : "a", "publishedAt": "x", "n": 1.50e+3, "m": -0.0, "z": [true, false, null, {}, []] }""")]
    [InlineData("""{"p":"caf\u00e9 \"q\" \/ \u2028 \ud83d\ude00 <&>'","n\u0061me":"\t","nested":{"publishedAt":1}}""")]
    [InlineData("""{"path":"/etc/\u00ff\u0000","a":"\\"}""")]
    public void The_token_copy_gives_the_bytes_a_document_tree_gives(string json)
    {
        var payload = Encoding.UTF8.GetBytes(json);
        Assert.Equal(Encoding.UTF8.GetString(ThroughDocumentTree(payload)), Encoding.UTF8.GetString(EventContent.SigningInput(payload)));
    }

    [Theory]
    [InlineData("""{"a":1} {"b":2}""")]
    [InlineData("""{"a":1,}""")]
    [InlineData("""{"a":1 /* c */}""")]
    [InlineData("""{"a":""")]
    [InlineData("\"text\"")]
    [InlineData("")]
    public void Anything_but_one_JSON_object_is_refused(string json) =>
        Assert.Throws<FormatException>(() => EventContent.SigningInput(Encoding.UTF8.GetBytes(json)));

    /// <summary>The definition the token copy must match: parse to a tree, drop the top-level publishedAt, write compactly.</summary>
    private static byte[] ThroughDocumentTree(byte[] payload)
    {
        var obj = (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(payload)!;
        obj.Remove("publishedAt");
        using var buffer = new MemoryStream();
        buffer.Write(Encoding.ASCII.GetBytes(EventContent.Domain));
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            obj.WriteTo(writer);
        }
        return buffer.ToArray();
    }

    [Fact]
    public void Message_id_holds_the_event_id_and_the_digest() =>
        Assert.Equal("a:b:1#" + new string('0', 64), EventContent.MessageId("a:b:1", new string('0', 64)));

    [Fact]
    public void Join_token_round_trips_and_its_text_never_shows_the_secret()
    {
        var token = new JoinToken("0123abcd", "s3cr3t-value", "jwt.parts.here", "SUSEED");
        var parsed = JoinToken.Parse(token.Encode());
        Assert.Equal(token, parsed);
        Assert.DoesNotContain("s3cr3t-value", parsed.ToString());
        var damaged = Assert.Throws<FormatException>(() => JoinToken.Parse("fimjt1.!!!s3cr3t"));
        Assert.DoesNotContain("s3cr3t", damaged.Message);
        Assert.Contains("must start with", Assert.Throws<FormatException>(() => JoinToken.Parse("hello")).Message);
    }
}
