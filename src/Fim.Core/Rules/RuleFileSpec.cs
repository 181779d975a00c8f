namespace Fim.Core.Rules;

/// <summary>
/// A user rule file as written: <c>rules:</c> followed by a list of <see cref="RuleSpec"/>. Keys are the camelCase
/// property names; <see cref="RuleLoader"/> binds it strictly and turns it into <see cref="AlertRule"/>s.
/// </summary>
public sealed class RuleFileSpec
{
    public List<RuleSpec> Rules { get; set; } = [];
}

/// <summary>One user rule. Every condition given must hold; a condition left out matches anything.</summary>
public sealed class RuleSpec
{
    /// <summary>Unique across all rule files; becomes part of the alert id.</summary>
    public string Id { get; set; } = "";
    /// <summary>0-15 like Wazuh; 0 silences what the rule matches. Required.</summary>
    public int? Level { get; set; }
    public string Description { get; set; } = "";
    /// <summary>Path globs (<see cref="Policy.PathGlob"/>); the rule matches when any of them does.</summary>
    public List<string> Paths { get; set; } = [];
    /// <summary>Change kinds: added, modified, deleted, attributes, type-changed.</summary>
    public List<string> Kinds { get; set; } = [];
    /// <summary>Changed attributes (mode, uid, sha256, ...); the rule matches when any of them changed.</summary>
    public List<string> Attributes { get; set; } = [];
    /// <summary>Agent labels that must all be present with these values.</summary>
    public Dictionary<string, string> Labels { get; set; } = [];
    public List<string> Compliance { get; set; } = [];
    public List<string> Tags { get; set; } = [];
    /// <summary>The event's package verdict: update, unverified, unpackaged or any (<see cref="PackageCondition"/>).</summary>
    public string? Package { get; set; }
    /// <summary>Security record formats (falco, prowler, json); the rule then matches only records of these.</summary>
    public List<string> Formats { get; set; } = [];
    /// <summary>Conditions on a security record's decoded fields, all of which must hold.</summary>
    public List<FieldSpec> Fields { get; set; } = [];
    /// <summary>False: alerts are stored but sent to no sink. True by default.</summary>
    public bool? Notify { get; set; }
}

/// <summary>One condition on a decoded field: the field's dotted name and exactly one test.</summary>
public sealed class FieldSpec
{
    public string Field { get; set; } = "";
    [System.Text.Json.Serialization.JsonPropertyName("equals")]
    public string? EqualTo { get; set; }
    public List<string>? OneOf { get; set; }
    public string? Regex { get; set; }
    public decimal? GreaterThan { get; set; }
    public decimal? AtLeast { get; set; }
    public decimal? LessThan { get; set; }
    public decimal? AtMost { get; set; }
    /// <summary>True: the field must have a value; false: it must not.</summary>
    public bool? Exists { get; set; }
}
