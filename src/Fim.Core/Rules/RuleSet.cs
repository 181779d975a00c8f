using Fim.Contracts;
using Fim.Core.Model;

namespace Fim.Core.Rules;

/// <summary>
/// Evaluates rules in order, first match wins: user rules before the defaults, so a user rule can raise,
/// lower or silence what a default would say. The policy's severity is a floor for the level.
/// </summary>
public sealed class RuleSet(IReadOnlyList<AlertRule> rules)
{
    /// <summary>Compliance references every file-integrity alert carries (what Wazuh's syscheck rules cite).</summary>
    public static readonly IReadOnlyList<string> IntegrityCompliance =
        ["pci_dss:11.5", "pci_dss:10.5.5", "nist_800_53:SI.7", "gdpr:II_5.1.f", "hipaa:164.312.c.1", "hipaa:164.312.c.2"];

    /// <summary>The level of a baseline reset: changes made before it are never reported, which is what an intruder wants.</summary>
    public const int BaselineResetLevel = 12;

    /// <summary>The level of a change to existing data of an append-only file (PCI DSS 10.3.4: audit logs must not be altered).</summary>
    public const int AppendViolationLevel = 11;

    /// <summary>Tag of alerts whose event reports a flapping file.</summary>
    public const string FlappingTag = "flapping";
    /// <summary>A change the package database vouches for, from a transaction that just ran: recorded, rarely worth a look.</summary>
    public const int PackageUpdateLevel = 3;

    /// <summary>A packaged file whose content no installed version ships: the replaced /usr/bin/ls an intruder leaves.</summary>
    public const int PackageModifiedLevel = 12;

    private static readonly IReadOnlyList<ChangeKind> ChangesToFiles =
        [ChangeKind.Added, ChangeKind.Modified, ChangeKind.Deleted, ChangeKind.Attributes, ChangeKind.TypeChanged];

    public static readonly IReadOnlyList<AlertRule> Defaults =
    [
        new() { Id = "559", Level = BaselineResetLevel, Kinds = [ChangeKind.BaselineReset], Description = "Baseline reset: the agent's baseline was deleted, replaced by an older or foreign copy, or discarded on request, and a new one was recorded; changes before it are not reported.", Compliance = IntegrityCompliance },
        new() { Id = "580", Level = AppendViolationLevel, Kinds = [ChangeKind.AppendViolation], Description = "Append-only file truncated, rewritten or replaced: existing log data changed.", Compliance = IntegrityCompliance },
        new() { Id = "581", Level = 3, Kinds = [ChangeKind.Rotated], Description = "Append-only file rotated.", Compliance = IntegrityCompliance },
        new() { Id = "571", Level = PackageModifiedLevel, Package = PackageCondition.Unverified, Kinds = ChangesToFiles, Description = "Packaged file modified outside the package manager: its content matches no installed package version.", Compliance = IntegrityCompliance, Tags = [PackageConditions.UnverifiedTag] },
        new() { Id = "570", Level = PackageUpdateLevel, Package = PackageCondition.Update, Kinds = ChangesToFiles, Description = "File changed by a package update that just ran (verified against the package database).", Compliance = IntegrityCompliance, Tags = [PackageConditions.UpdateTag] },
        new() { Id = "554", Level = 5, Kinds = [ChangeKind.Added], Description = "File added to the system.", Compliance = IntegrityCompliance },
        new() { Id = "553", Level = 7, Kinds = [ChangeKind.Deleted], Description = "File deleted.", Compliance = IntegrityCompliance },
        new() { Id = "555", Level = 8, Kinds = [ChangeKind.TypeChanged], Description = "File type changed.", Compliance = IntegrityCompliance },
        new() { Id = "556", Level = 9, Kinds = [ChangeKind.Attributes], Attributes = ["mode", "uid", "gid"], Description = "Ownership or permissions changed.", Compliance = IntegrityCompliance },
        new() { Id = "550", Level = 7, Kinds = [ChangeKind.Modified], Description = "Integrity checksum changed.", Compliance = IntegrityCompliance },
        new() { Id = "557", Level = 3, Kinds = [ChangeKind.Attributes], Description = "File attributes changed.", Compliance = IntegrityCompliance },
        .. SecurityDefaults.Rules,
    ];

    public static RuleSet Default { get; } = new(Defaults);

    public IReadOnlyList<AlertRule> Rules { get; } = rules;

    public static RuleSet WithUserRules(IEnumerable<AlertRule> userRules) => new([.. userRules, .. Defaults]);

    /// <summary>The alert for an event, or null when no rule matches or the matching rule silences it.</summary>
    public Alert? Evaluate(FileChange change, FileEvent e, AlertContext context)
    {
        for (var i = 0; i < Rules.Count; i++)
        {
            var rule = Rules[i];
            if (!rule.Matches(change, context.AgentLabels, e.Record) || !rule.Package.Holds(e))
            {
                continue;
            }
            if (rule.Level == 0)
            {
                return null;
            }
            var level = Math.Clamp(Math.Max(rule.Level, context.PolicySeverity ?? 0), 1, 15);
            var (compliance, tags) = context.PolicyTags.Count == 0
                ? rule.ComplianceAndTags
                : Split(rule.Compliance, [.. rule.Tags, .. context.PolicyTags]);
            var alert = Alert.For(e, new RuleRef { Id = rule.Id, Level = rule.Level, Description = rule.Description }, level, compliance, tags);
            if (e.Flapping is not null && !alert.Tags.Contains(FlappingTag))
            {
                alert.Tags.Add(FlappingTag);
            }
            if (!rule.Notify && !alert.Tags.Contains(Alert.StoredOnlyTag))
            {
                alert.Tags.Add(Alert.StoredOnlyTag);
            }
            return alert;
        }
        return null;
    }

    /// <summary>Compliance references (the rule's plus tags that are references) and the remaining free tags, each distinct.</summary>
    internal static (IReadOnlyList<string> Compliance, IReadOnlyList<string> Tags) Split(IReadOnlyList<string> compliance, IReadOnlyList<string> tags) =>
        ([.. compliance.Concat(tags.Where(IsComplianceTag)).Distinct()], [.. tags.Where(t => !IsComplianceTag(t)).Distinct()]);

    private static bool IsComplianceTag(string tag) =>
        tag.StartsWith("pci_dss:", StringComparison.Ordinal) || tag.StartsWith("nist_800_53:", StringComparison.Ordinal) ||
        tag.StartsWith("gdpr:", StringComparison.Ordinal) || tag.StartsWith("hipaa:", StringComparison.Ordinal) ||
        tag.StartsWith("tsc:", StringComparison.Ordinal) || tag.StartsWith("gpg13:", StringComparison.Ordinal) ||
        tag.StartsWith("cis:", StringComparison.Ordinal);
}

/// <summary>What a rule may look at beyond the change itself.</summary>
public sealed record AlertContext(IReadOnlyDictionary<string, string> AgentLabels, int? PolicySeverity, IReadOnlyList<string> PolicyTags)
{
    public static AlertContext For(Policy.CompiledPolicy policy, IReadOnlyDictionary<string, string>? labels = null) =>
        new(labels ?? new Dictionary<string, string>(), policy.Severity, policy.Tags);
}
