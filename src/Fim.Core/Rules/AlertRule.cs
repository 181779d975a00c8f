using Fim.Contracts;
using Fim.Core.Model;
using Fim.Core.Policy;

namespace Fim.Core.Rules;

/// <summary>
/// Turns matching changes into alerts. Every condition given must hold; an absent condition matches anything.
/// Level 0 silences what it matches (as in Wazuh).
/// </summary>
public sealed class AlertRule
{
    public required string Id { get; init; }
    public int Level { get; init; }
    public string Description { get; init; } = "";
    public IReadOnlyList<ChangeKind> Kinds { get; init; } = [];
    public IReadOnlyList<PathGlob> Paths { get; init; } = [];
    /// <summary>Matches when any of these attributes is among the changed ones.</summary>
    public IReadOnlyList<string> Attributes { get; init; } = [];
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Compliance { get; init; } = [];
    public IReadOnlyList<string> Tags { get; init; } = [];
    /// <summary>What the event's package must be (the agent's verdict against the package database); Any by default.</summary>
    public PackageCondition Package { get; init; }
    /// <summary>The security record's format (falco, prowler, json); any when empty. A rule naming formats matches no file event.</summary>
    public IReadOnlyList<string> Formats { get; init; } = [];
    /// <summary>Conditions on the decoded fields of a security record, all of which must hold; none by default.</summary>
    public IReadOnlyList<FieldCondition> Fields { get; init; } = [];
    /// <summary>False: the alert is stored and searchable but sinks do not send it (it carries <see cref="Alert.StoredOnlyTag"/>).</summary>
    public bool Notify { get; init; } = true;

    /// <summary>The rule's compliance references and free tags, split and de-duplicated once (the same for every alert).</summary>
    internal (IReadOnlyList<string> Compliance, IReadOnlyList<string> Tags) ComplianceAndTags => _complianceAndTags ??= RuleSet.Split(Compliance, Tags);

    private (IReadOnlyList<string> Compliance, IReadOnlyList<string> Tags)? _complianceAndTags;

    /// <summary><see cref="Attributes"/> as a set, parsed once.</summary>
    private ChangedAttributes AttributeSet => _attributeSet ??= ChangedAttributeNames.Parse(Attributes);

    private ChangedAttributes? _attributeSet;

    public bool Matches(FileChange change, IReadOnlyDictionary<string, string> agentLabels, SecurityRecord? record = null)
    {
        if (Kinds.Count > 0 && !Kinds.Contains(change.Kind))
        {
            return false;
        }
        if (Paths.Count > 0 && !Paths.Any(p => p.IsMatch(change.Path)))
        {
            return false;
        }
        if (Attributes.Count > 0 && (change.Changed & AttributeSet) == 0)
        {
            return false;
        }
        if ((Formats.Count > 0 || Fields.Count > 0) && !HoldsForRecord(record))
        {
            return false;
        }
        foreach (var (key, value) in Labels)
        {
            if (!agentLabels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }
        return true;
    }

    private bool HoldsForRecord(SecurityRecord? record)
    {
        if (record is null || (Formats.Count > 0 && !Formats.Contains(record.Format, StringComparer.Ordinal)))
        {
            return false;
        }
        for (var i = 0; i < Fields.Count; i++)
        {
            if (!Fields[i].Holds(record))
            {
                return false;
            }
        }
        return true;
    }
}
