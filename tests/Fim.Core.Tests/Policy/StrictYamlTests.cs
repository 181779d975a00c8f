using System.Text.Json.Serialization;
using Fim.Core.Policy;

namespace Fim.Core.Tests.Policy;

public class StrictYamlTests
{
    public sealed class Settings
    {
        public string? Url { get; set; }
        public int MaxEvents { get; set; } = 10;
        public Inner Nested { get; set; } = new();
        public Dictionary<string, string> Labels { get; set; } = [];
    }

    public sealed class Inner
    {
        public string? Password { get; set; }
    }

    [Fact]
    public void Binds_known_keys()
    {
        var s = StrictYaml.Read("url: nats://x:4222\nmaxEvents: 5\nnested:\n  password: p\nlabels:\n  zone: a\n", "s.yaml", SettingsJson.Default.Settings);
        Assert.Equal("nats://x:4222", s.Url);
        Assert.Equal(5, s.MaxEvents);
        Assert.Equal("p", s.Nested.Password);
        Assert.Equal("a", s.Labels["zone"]);
    }

    [Fact]
    public void Refuses_unknown_keys_with_file_line_key_and_a_suggestion_listing_every_problem()
    {
        var e = Assert.Throws<PolicyException>(() => StrictYaml.Read("url: x\nnested:\n  passwrd: p\nmaxEvent: 3\n", "agent.yaml", SettingsJson.Default.Settings));
        Assert.Equal(2, e.Problems.Count);
        Assert.Contains("agent.yaml:3:3: unknown key 'passwrd' in nested; did you mean 'password'?", e.Message);
        Assert.Contains("agent.yaml:4:1: unknown key 'maxEvent' in the top level; did you mean 'maxEvents'?", e.Message);
    }

    [Fact]
    public void Refuses_a_duplicated_key_naming_both_lines()
    {
        var e = Assert.Throws<PolicyException>(() => StrictYaml.Read("maxEvents: 1\nurl: x\nmaxEvents: 2\n", "agent.yaml", SettingsJson.Default.Settings));
        Assert.Contains("agent.yaml:3:1: duplicate key 'maxEvents' in the top level (first given at line 1)", e.Message);
    }

    [Fact]
    public void Refuses_a_value_of_the_wrong_type()
    {
        var e = Assert.Throws<PolicyException>(() => StrictYaml.Read("maxEvents: many\n", "agent.yaml", SettingsJson.Default.Settings));
        Assert.Contains("agent.yaml:1:12", e.Message);
        Assert.Contains("expects an integer", e.Message);
    }

    [Fact]
    public void An_empty_file_gives_the_defaults() => Assert.Equal(10, StrictYaml.Read("# nothing\n", "agent.yaml", SettingsJson.Default.Settings).MaxEvents);

    [Fact]
    public void A_list_at_the_top_is_refused() =>
        Assert.Contains("the top level must be a mapping", Assert.Throws<PolicyException>(() => StrictYaml.Read("- a\n", "agent.yaml", SettingsJson.Default.Settings)).Message);
}

/// <summary>The test model's metadata, as a caller of <see cref="StrictYaml"/> provides it for its own types.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StrictYamlTests.Settings))]
internal sealed partial class SettingsJson : JsonSerializerContext;
