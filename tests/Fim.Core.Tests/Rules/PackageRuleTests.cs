using Fim.Contracts;
using Fim.Core.Events;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Rules;

namespace Fim.Core.Tests.Rules;

/// <summary>The default rules for packaged files: an update that just ran is low, content no package ships is high, unpackaged files keep their levels.</summary>
public sealed class PackageRuleTests
{
    private static readonly AlertContext NoContext = new(new Dictionary<string, string>(), null, []);

    private static (FileChange, FileEvent) Change(ChangeKind kind, PackageInfo? package)
    {
        var record = new FileRecord { Path = PathBytes.FromString("/usr/bin/ls"), Type = FileType.Regular };
        var c = new FileChange(kind, record.Path, kind == ChangeKind.Added ? null : record, kind == ChangeKind.Deleted ? null : record,
            ChangedAttributes.Size, DetectionSource.Realtime, DateTimeOffset.UnixEpoch, "p");
        var e = EventRecords.From(c, new EventOrigin("a", "h"), "a:b:1");
        e.Package = package;
        return (c, e);
    }

    private static PackageInfo Package(bool verified, bool justUpdated) => new()
    {
        Manager = PackageInfo.Dpkg,
        Name = "coreutils",
        VersionBefore = "9.1-1",
        VersionAfter = "9.1-2",
        Verified = verified,
        UpdatedAt = justUpdated ? DateTimeOffset.UnixEpoch : null,
    };

    [Theory]
    [InlineData(ChangeKind.Modified)]
    [InlineData(ChangeKind.Added)]
    [InlineData(ChangeKind.Deleted)]
    [InlineData(ChangeKind.Attributes)]
    public void A_change_verified_against_an_update_that_just_ran_is_low_and_tagged_package_update(ChangeKind kind)
    {
        var (c, e) = Change(kind, Package(verified: true, justUpdated: true));
        var alert = RuleSet.Default.Evaluate(c, e, NoContext)!;
        Assert.Equal("570", alert.Rule.Id);
        Assert.True(alert.Level < 7);
        Assert.Contains("package-update", alert.Tags);
        Assert.Equal("coreutils", alert.Package!.Name);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Content_no_installed_version_ships_is_a_high_level_alert_even_during_an_update(bool justUpdated)
    {
        var (c, e) = Change(ChangeKind.Modified, Package(verified: false, justUpdated));
        var alert = RuleSet.Default.Evaluate(c, e, NoContext)!;
        Assert.Equal("571", alert.Rule.Id);
        Assert.Equal(RuleSet.PackageModifiedLevel, alert.Level);
        Assert.Contains("outside the package manager", alert.Rule.Description);
    }

    [Fact]
    public void Unpackaged_files_and_verified_files_without_a_recent_update_keep_todays_levels()
    {
        var (c, e) = Change(ChangeKind.Modified, null);
        Assert.Equal("550", RuleSet.Default.Evaluate(c, e, NoContext)!.Rule.Id);
        (c, e) = Change(ChangeKind.Modified, Package(verified: true, justUpdated: false));
        Assert.Equal("550", RuleSet.Default.Evaluate(c, e, NoContext)!.Rule.Id);
    }

    [Fact]
    public void A_user_rule_can_select_on_the_package_verdict_and_a_bad_one_is_named()
    {
        var rules = RuleLoader.LoadYaml("rules:\n  - id: \"100100\"\n    level: 0\n    package: update\n", "rules.yaml");
        var set = RuleSet.WithUserRules(rules.Select(r => r.Rule));
        var (c, e) = Change(ChangeKind.Modified, Package(verified: true, justUpdated: true));
        Assert.Null(set.Evaluate(c, e, NoContext));
        (c, e) = Change(ChangeKind.Modified, Package(verified: false, justUpdated: true));
        Assert.Equal("571", set.Evaluate(c, e, NoContext)!.Rule.Id);

        var bad = Assert.Throws<PolicyException>(() => RuleLoader.LoadYaml("rules:\n  - id: \"1\"\n    level: 3\n    package: sometimes\n", "rules.yaml"));
        Assert.Contains("rules[0].package", bad.Message);
    }
}
