using System.Text;
using Fim.Contracts;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Rules;
using Fim.Core.Sources;
using Fim.Testing;

namespace Fim.Core.Tests.Sources;

public sealed class SecurityRuleTests
{
    private static readonly AlertContext Context = new(new Dictionary<string, string>(), null, []);

    private static FileEvent Event(string format, string line)
    {
        var record = SecurityDecoder.Decode(format, Encoding.UTF8.GetBytes(line)).Record!;
        var e = SecurityEvents.Create(record, "node-1", "node-1", "p", "/var/log/x.json", DateTimeOffset.UnixEpoch.AddDays(1));
        e.EventId = "node-1:b:1";
        return e;
    }

    private static Alert? Judge(RuleSet rules, FileEvent e) =>
        rules.Evaluate(new FileChange(ChangeKind.Security, Encoding.UTF8.GetBytes(e.Path), null, null, ChangedAttributes.None, DetectionSource.Realtime, e.ObservedAt, e.Policy), e, Context);

    [Theory]
    [InlineData("Emergency", 15)]
    [InlineData("Alert", 14)]
    [InlineData("Critical", 13)]
    [InlineData("Error", 11)]
    [InlineData("Warning", 8)]
    [InlineData("Notice", 5)]
    [InlineData("Informational", 3)]
    [InlineData("Debug", 2)]
    [InlineData("critical", 13)]
    public void Falco_priorities_map_to_the_documented_levels(string priority, int level)
    {
        var alert = Judge(RuleSet.Default, Event(SecurityRecord.Falco, SecuritySamples.FalcoShell.Replace("\"priority\":\"Notice\"", $"\"priority\":\"{priority}\"", StringComparison.Ordinal)))!;
        Assert.Equal(level, alert.Level);
        Assert.Equal(SecurityDefaults.FalcoLevels.FirstOrDefault(x => x.Priority.Equals(priority, StringComparison.OrdinalIgnoreCase)).Level, level);
        Assert.DoesNotContain(Alert.StoredOnlyTag, alert.Tags);
        Assert.Equal("Terminal shell in container", alert.Record!.Title);
    }

    [Theory]
    [InlineData("Critical", 13)]
    [InlineData("High", 11)]
    [InlineData("Medium", 8)]
    [InlineData("Low", 5)]
    [InlineData("Informational", 3)]
    public void Failed_Prowler_checks_map_severity_to_level(string severity, int level)
    {
        var alert = Judge(RuleSet.Default, Event(SecurityRecord.Prowler, SecuritySamples.ProwlerFail(severity, "sg-1")))!;
        Assert.Equal(level, alert.Level);
        Assert.Equal("arn:aws:ec2:eu-west-1:210987654321:security-group/sg-1", alert.Record!.Resource);
        Assert.DoesNotContain(Alert.StoredOnlyTag, alert.Tags);
    }

    [Fact]
    public void A_passed_Prowler_check_is_stored_but_sent_nowhere()
    {
        var alert = Judge(RuleSet.Default, Event(SecurityRecord.Prowler, SecuritySamples.ProwlerPass))!;
        Assert.Equal("726", alert.Rule.Id);
        Assert.Contains(Alert.StoredOnlyTag, alert.Tags);
    }

    [Fact]
    public void File_rules_do_not_match_security_events_and_security_rules_do_not_match_files()
    {
        Assert.StartsWith("7", Judge(RuleSet.Default, Event(SecurityRecord.Json, SecuritySamples.GenericJson))!.Rule.Id, StringComparison.Ordinal);
        var fileEvent = new FileEvent { EventId = "a:b:1", AgentId = "a", Path = "/etc/x", Kind = "modified", Source = "realtime" };
        var change = new FileChange(ChangeKind.Modified, "/etc/x"u8.ToArray(), null, null, ChangedAttributes.Sha256, DetectionSource.Realtime, DateTimeOffset.UnixEpoch, null);
        Assert.Equal("550", RuleSet.Default.Evaluate(change, fileEvent, Context)!.Rule.Id);
    }

    private const string UserRules = """
        rules:
          - id: "100300"
            level: 12
            description: Shell in an nginx container
            formats: [falco]
            fields:
              - field: output_fields.container.image.repository
                equals: NGINX
              - field: output_fields.proc.name
                oneOf: [bash, sh, zsh]
              - field: output_fields.proc.cmdline
                regex: '^bash'
              - field: output_fields.proc.tty
                greaterThan: 0
              - field: output_fields.user.name
                exists: true
            tags: [pci_dss:10.2.7, shell]
          - id: "100301"
            level: 0
            formats: [json]
            fields:
              - field: attempts
                atMost: 5
          - id: "100302"
            level: 9
            formats: [json]
            fields:
              - field: attempts
                atLeast: 6
          - id: "100303"
            level: 4
            notify: false
            formats: [falco]
            fields:
              - field: output_fields.fd.name
                absentness: true
        """;

    [Fact]
    public void User_rules_match_on_decoded_fields_with_each_test()
    {
        var bad = Assert.Throws<PolicyException>(() => RuleLoader.LoadYaml(UserRules, "rules.yaml"));
        Assert.Contains("absentness", bad.Message, StringComparison.Ordinal);

        var rules = RuleSet.WithUserRules(RuleLoader.LoadYaml(UserRules.Replace("absentness: true", "exists: false", StringComparison.Ordinal), "rules.yaml").Select(x => x.Rule));
        var shell = Judge(rules, Event(SecurityRecord.Falco, SecuritySamples.FalcoShell))!;
        Assert.Equal(("100300", 12), (shell.Rule.Id, shell.Level));
        Assert.Contains("pci_dss:10.2.7", shell.Compliance);
        Assert.Contains("shell", shell.Tags);
        // Silenced by a numeric comparison: attempts 5 is at most 5.
        Assert.Null(Judge(rules, Event(SecurityRecord.Json, SecuritySamples.GenericJson)));
        Assert.Equal("100302", Judge(rules, Event(SecurityRecord.Json, SecuritySamples.GenericJson.Replace("\"attempts\":5", "\"attempts\":6", StringComparison.Ordinal)))!.Rule.Id);
        // The shadow read has fd.name, so 100303 (fd.name absent) does not hold; the default for Warning does.
        Assert.Equal("704", Judge(rules, Event(SecurityRecord.Falco, SecuritySamples.FalcoShadow))!.Rule.Id);
        var critical = Judge(rules, Event(SecurityRecord.Falco, SecuritySamples.FalcoCritical))!;
        Assert.Equal("100303", critical.Rule.Id);
        Assert.Contains(Alert.StoredOnlyTag, critical.Tags);
    }

    [Theory]
    [InlineData("formats: [syslog]", "unknown format 'syslog'")]
    [InlineData("fields:\n      - field: a\n        equals: x\n        regex: y", "give exactly one test per entry")]
    [InlineData("fields:\n      - field: a", "has no test")]
    [InlineData("fields:\n      - equals: x", "field: is required")]
    [InlineData("fields:\n      - field: a\n        regex: '('", "does not compile")]
    [InlineData("fields:\n      - field: a\n        greaterThan: many", "many")]
    public void A_bad_field_condition_is_refused_naming_what_is_wrong(string condition, string expected)
    {
        var yaml = $"rules:\n  - id: \"1\"\n    level: 3\n    {condition}\n";
        var e = Assert.Throws<PolicyException>(() => RuleLoader.LoadYaml(yaml, "rules.yaml"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
