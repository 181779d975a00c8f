using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>One Kubernetes-style selector requirement: key, operator (In, NotIn, Exists, DoesNotExist), values.</summary>
public sealed record LabelRequirement(
    string Key,
    string Operator,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Values);

/// <summary>
/// A Kubernetes label selector over an agent's labels: every matchLabels pair and every matchExpressions requirement
/// must hold; an empty selector selects every agent. The one matcher: the agent decides with it which policies to
/// apply, the operator which agents a policy targets.
/// </summary>
public sealed record LabelSelector
{
    public static readonly IReadOnlyList<string> Operators = ["In", "NotIn", "Exists", "DoesNotExist"];

    public static LabelSelector Everything { get; } = new();

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? MatchLabels { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<LabelRequirement>? MatchExpressions { get; init; }

    /// <summary>The first requirement that cannot be evaluated (unknown operator, values where none belong or missing), or null.</summary>
    public string? Problem()
    {
        foreach (var r in MatchExpressions ?? [])
        {
            var count = r.Values?.Count ?? 0;
            if (!Operators.Contains(r.Operator))
            {
                return $"operator '{r.Operator}' is not one of {string.Join(", ", Operators)}";
            }
            if (r.Operator is "In" or "NotIn" && count == 0)
            {
                return $"'{r.Key}' {r.Operator} needs at least one value";
            }
            if (r.Operator is "Exists" or "DoesNotExist" && count > 0)
            {
                return $"'{r.Key}' {r.Operator} takes no values";
            }
        }
        return null;
    }

    /// <summary>Whether <paramref name="labels"/> satisfy the selector; a requirement with an unknown operator never holds.</summary>
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, value) in MatchLabels ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }
        foreach (var r in MatchExpressions ?? [])
        {
            var has = labels.TryGetValue(r.Key, out var actual);
            var values = r.Values ?? [];
            var ok = r.Operator switch
            {
                "In" => has && values.Contains(actual!),
                "NotIn" => !has || !values.Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }
}
