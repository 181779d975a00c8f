using System.Text;
using Fim.Contracts;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Rules;
using Fim.Core.Tests.Policy;

namespace Fim.Core.Tests.Rules;

public class RuleLoaderTests
{
    private const string Source = "rules.yaml";

    private const string Valid = """
        rules:
          - id: "100100"
            level: 12
            description: Shadow file changed
            paths: [/etc/shadow, /etc/gshadow]
            kinds: [modified, attributes]
            attributes: [sha256, mode]
            labels: {env: prod}
            compliance: ["pci_dss:10.2.5"]
            tags: [credentials]
          - id: "100101"
            level: 0
            paths: "/var/cache/**"
        """;

    [Fact]
    public void Valid_file_binds_every_field()
    {
        var rules = RuleLoader.LoadYaml(Valid, Source);

        Assert.Equal(2, rules.Count);
        var (shadow, line) = rules[0];
        Assert.Equal(2, line);
        Assert.Equal("100100", shadow.Id);
        Assert.Equal(12, shadow.Level);
        Assert.Equal("Shadow file changed", shadow.Description);
        Assert.Equal(["/etc/shadow", "/etc/gshadow"], shadow.Paths.Select(p => p.Pattern));
        Assert.Equal([ChangeKind.Modified, ChangeKind.Attributes], shadow.Kinds);
        Assert.Equal(["sha256", "mode"], shadow.Attributes);
        Assert.Equal("prod", shadow.Labels["env"]);
        Assert.Equal(["pci_dss:10.2.5"], shadow.Compliance);
        Assert.Equal(["credentials"], shadow.Tags);
        Assert.Equal(0, rules[1].Rule.Level);
        Assert.Equal("/var/cache/**", Assert.Single(rules[1].Rule.Paths).Pattern);
    }

    [Fact]
    public void Unknown_key_names_file_line_column_and_near_miss()
    {
        var error = Assert.Throws<PolicyException>(() => RuleLoader.LoadYaml("""
            rules:
              - id: a
                level: 3
                pahts: [/etc]
            """, Source));

        Assert.Equal(4, error.Line);
        Assert.Equal(5, error.Column);
        Assert.Equal("rules[0].pahts", error.FieldPath);
        Assert.StartsWith("rules.yaml:4:5: unknown key 'pahts' in rules[0];", error.Message);
        Assert.Contains("did you mean 'paths'?", error.Message);
    }

    [Fact]
    public void An_unknown_key_does_not_hide_the_other_errors_of_the_file()
    {
        var error = Assert.Throws<PolicyException>(() => RuleLoader.LoadYaml("""
            rules:
              - id: a
                levle: 3
              - id: b
                level: 99
                kinds: [renamed]
            """, Source));

        Assert.Equal(["rules[0].level", "rules[0].levle", "rules[1].level", "rules[1].kinds[0]"],
            error.Problems.Select(p => p.FieldPath).ToArray());
        Assert.Equal([2, 3, 5, 6], error.Problems.Select(p => p.Line ?? 0).ToArray());
    }

    [Fact]
    public void Wrong_type_names_the_field_and_what_it_expects()
    {
        var error = Assert.Throws<PolicyException>(() => RuleLoader.LoadYaml("rules:\n  - id: a\n    level: high\n", Source));

        Assert.Equal(3, error.Line);
        Assert.Equal("rules[0].level", error.FieldPath);
        Assert.Contains("expects an integer, got 'high'", error.Message);
    }

    [Theory]
    [InlineData("    level: 16\n", "rules[0].level", "must be 0..15, got 16", 3)]
    [InlineData("    level: -1\n", "rules[0].level", "must be 0..15, got -1", 3)]
    [InlineData("    kinds: [modified, renamed]\n    level: 3\n", "rules[0].kinds[1]", "unknown change kind 'renamed'", 3)]
    [InlineData("    attributes: [colour]\n    level: 3\n", "rules[0].attributes[0]", "unknown attribute 'colour'", 3)]
    [InlineData("    paths: ['/etc/[a']\n    level: 3\n", "rules[0].paths[0]", "/etc/[a", 3)]
    [InlineData("    description: x\n", "rules[0].level", "is required", 2)]
    public void Invalid_values_are_located(string body, string field, string message, int line)
    {
        var error = Assert.Throws<PolicyException>(() => RuleLoader.LoadYaml("rules:\n  - id: a\n" + body, Source));

        Assert.Equal(field, error.FieldPath);
        Assert.Contains($"{field}: ", error.Message);
        Assert.Contains(message, error.Message);
        Assert.Equal(line, error.Line);
        Assert.StartsWith($"{Source}:{line}:", error.Message);
    }

    [Fact]
    public void Missing_id_and_duplicate_id_are_both_reported()
    {
        var error = Assert.Throws<PolicyException>(() => RuleLoader.LoadYaml("""
            rules:
              - level: 3
              - id: x
                level: 3
              - id: x
                level: 4
            """, Source));

        Assert.Equal(2, error.Problems.Count);
        Assert.Equal("rules[0].id", error.Problems[0].FieldPath);
        Assert.Contains("duplicate rule id 'x' (first defined at line 3)", error.Problems[1].Message);
        Assert.Equal(5, error.Problems[1].Line);
    }

    [Fact]
    public void Top_level_list_is_refused_and_empty_file_has_no_rules()
    {
        var error = Assert.Throws<PolicyException>(() => RuleLoader.LoadYaml("- id: a\n", Source));
        Assert.Contains("mapping with the key 'rules'", error.Message);
        Assert.Empty(RuleLoader.LoadYaml("# nothing yet\n", Source));
    }

    [Fact]
    public void Files_duplicate_ids_across_files_and_unreadable_files_name_the_file()
    {
        using var dir = new TempDirectory();
        var a = dir.Write("a.yaml", "rules:\n  - id: same\n    level: 3\n");
        var b = dir.Write("b.yaml", "rules:\n  - id: other\n    level: 3\n  - id: same\n    level: 4\n");

        var error = Assert.Throws<PolicyException>(() => RuleLoader.LoadRuleSet([a, b]));
        Assert.Equal(b, error.SourceName);
        Assert.Contains($"duplicate rule id 'same' (first defined in {a}:2)", error.Message);
        Assert.Equal(4, error.Line);

        var missing = Assert.Throws<PolicyException>(() => RuleLoader.LoadRuleSet([Path.Combine(dir.Path, "nope.yaml")]));
        Assert.Contains("nope.yaml: cannot read the rule file: the file does not exist", missing.Message);

        var binary = dir.Write("bin.yaml", [0x72, 0xff, 0xfe]);
        Assert.Contains("not UTF-8", Assert.Throws<PolicyException>(() => RuleLoader.LoadRuleSet([binary])).Message);
    }

    [Fact]
    public void User_rules_come_before_defaults_so_they_raise_and_silence()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("r.yaml", Valid);
        var set = RuleLoader.LoadRuleSet([file]);

        var prod = new Dictionary<string, string> { ["env"] = "prod" };
        var shadow = Evaluate(set, ChangeKind.Modified, "/etc/shadow", ["sha256"], prod);
        Assert.NotNull(shadow);
        Assert.Equal("100100", shadow.Rule.Id);
        Assert.Equal(12, shadow.Level);
        Assert.Contains("pci_dss:10.2.5", shadow.Compliance);
        Assert.Contains("credentials", shadow.Tags);

        // Same change on an agent without the label: the default rule 550 answers.
        Assert.Equal("550", Evaluate(set, ChangeKind.Modified, "/etc/shadow", ["sha256"], new Dictionary<string, string>())!.Rule.Id);
        // Attribute condition: only mtime changed, so the user rule does not match.
        Assert.Equal("557", Evaluate(set, ChangeKind.Attributes, "/etc/shadow", ["mtime"], prod)!.Rule.Id);
        // Level 0 silences what a default would have reported.
        Assert.Null(Evaluate(set, ChangeKind.Added, "/var/cache/apt/x.bin", [], prod));
        Assert.Equal("554", Evaluate(set, ChangeKind.Added, "/var/lib/x.bin", [], prod)!.Rule.Id);
    }

    private static Alert? Evaluate(RuleSet set, ChangeKind kind, string path, string[] changed, IReadOnlyDictionary<string, string> labels)
    {
        var change = new FileChange(kind, Encoding.UTF8.GetBytes(path), null, null, ChangedAttributeNames.Parse(changed), DetectionSource.Realtime, DateTimeOffset.UtcNow);
        var e = new FileEvent { EventId = "a:b:1", AgentId = "a", Path = path, Kind = kind.ToName() };
        return set.Evaluate(change, e, new AlertContext(labels, null, []));
    }
}
