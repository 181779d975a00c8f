using Fim.Contracts;
using Fim.Core.Events;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Rules;

namespace Fim.Core.Tests.Rules;

public sealed class RuleSetTests
{
    private static readonly AlertContext NoContext = new(new Dictionary<string, string>(), null, []);

    private static (FileChange, FileEvent) Change(ChangeKind kind, string path = "/etc/passwd", params string[] changed)
    {
        var record = new FileRecord { Path = PathBytes.FromString(path), Type = FileType.Regular };
        var c = new FileChange(kind, record.Path, kind == ChangeKind.Added ? null : record, kind == ChangeKind.Deleted ? null : record,
            ChangedAttributeNames.Parse(changed), DetectionSource.Scan, DateTimeOffset.UnixEpoch, "p");
        return (c, EventRecords.From(c, new EventOrigin("a", "h"), "a:b:1"));
    }

    [Theory]
    [InlineData(ChangeKind.Added, "554", 5)]
    [InlineData(ChangeKind.Deleted, "553", 7)]
    [InlineData(ChangeKind.Modified, "550", 7)]
    [InlineData(ChangeKind.TypeChanged, "555", 8)]
    public void Defaults_give_each_kind_its_wazuh_like_rule_and_level(ChangeKind kind, string rule, int level)
    {
        var (c, e) = Change(kind, "/etc/passwd", "size");
        var alert = RuleSet.Default.Evaluate(c, e, NoContext)!;
        Assert.Equal(rule, alert.Rule.Id);
        Assert.Equal(level, alert.Level);
        Assert.Contains("pci_dss:11.5", alert.Compliance);
        Assert.Equal("a:b:1/" + rule, alert.AlertId);
    }

    [Fact]
    public void A_baseline_reset_event_is_a_high_level_alert_as_the_manager_judges_it()
    {
        var reset = new Fim.Core.Baseline.BaselineReset("missing", "it was deleted", new Fim.Core.Baseline.AnchorEntry("id", 7, "mac", DateTimeOffset.UnixEpoch));
        var e = EventRecords.ForReset(reset, "/var/lib/fim-agent/p", "p", new EventOrigin("a", "h"), "a:b:2", DateTimeOffset.UnixEpoch);
        // As the manager reads it: the kind from the wire name, the path from the event.
        Assert.True(ChangeKindNames.TryParse(e.Kind, out var kind));
        var change = new FileChange(kind, PathBytes.FromString(e.Path), null, null, default, DetectionSource.Scan, e.ObservedAt, e.Policy);

        var alert = RuleSet.Default.Evaluate(change, e, NoContext)!;

        Assert.Equal("559", alert.Rule.Id);
        Assert.Equal(RuleSet.BaselineResetLevel, alert.Level);
        Assert.True(alert.Level >= 12);
        Assert.Equal("missing", alert.Reset!.Reason);
        Assert.Equal(7, alert.Reset.PreviousGeneration);
    }

    [Fact]
    public void Permission_and_ownership_changes_rank_above_other_attribute_changes()
    {
        var (perm, pe) = Change(ChangeKind.Attributes, "/etc/passwd", "mode", "ctime");
        var (time, te) = Change(ChangeKind.Attributes, "/etc/passwd", "mtime");
        Assert.Equal("556", RuleSet.Default.Evaluate(perm, pe, NoContext)!.Rule.Id);
        Assert.Equal("557", RuleSet.Default.Evaluate(time, te, NoContext)!.Rule.Id);
    }

    [Fact]
    public void Policy_severity_is_a_floor_and_policy_tags_split_into_compliance_and_tags()
    {
        var (c, e) = Change(ChangeKind.Added);
        var context = new AlertContext(new Dictionary<string, string>(), 12, ["pci_dss:10.5.5", "critical-binaries"]);
        var alert = RuleSet.Default.Evaluate(c, e, context)!;
        Assert.Equal(12, alert.Level);
        Assert.Contains("pci_dss:10.5.5", alert.Compliance);
        Assert.Equal(["critical-binaries"], alert.Tags);
    }

    [Fact]
    public void User_rules_come_first_match_on_path_labels_and_attributes_and_level_zero_silences()
    {
        var silence = new AlertRule { Id = "100001", Level = 0, Paths = [PathGlob.Compile("*.log")] };
        var shadow = new AlertRule
        {
            Id = "100002",
            Level = 12,
            Description = "shadow changed on prod",
            Paths = [PathGlob.Compile("/etc/shadow")],
            Labels = new Dictionary<string, string> { ["env"] = "prod" },
            Attributes = ["sha256"],
        };
        var rules = RuleSet.WithUserRules([silence, shadow]);
        var prod = new AlertContext(new Dictionary<string, string> { ["env"] = "prod" }, null, []);

        var (log, le) = Change(ChangeKind.Modified, "/var/log/app.log", "size");
        Assert.Null(rules.Evaluate(log, le, prod));
        var (sh, se) = Change(ChangeKind.Modified, "/etc/shadow", "sha256");
        Assert.Equal("100002", rules.Evaluate(sh, se, prod)!.Rule.Id);
        Assert.Equal("550", rules.Evaluate(sh, se, NoContext)!.Rule.Id); // no env=prod label: falls through to the default
        var (shMode, sme) = Change(ChangeKind.Attributes, "/etc/shadow", "mode");
        Assert.Equal("556", rules.Evaluate(shMode, sme, prod)!.Rule.Id); // attribute condition not met
    }
}
