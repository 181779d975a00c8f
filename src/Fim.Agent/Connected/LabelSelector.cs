namespace Fim.Agent.Connected;

/// <summary>One Kubernetes-style selector requirement: key, operator (In, NotIn, Exists, DoesNotExist), values.</summary>
public sealed record LabelRequirement(string Key, string Operator, IReadOnlyList<string> Values);

/// <summary>
/// A Kubernetes label selector over the agent's labels: every matchLabels pair and every matchExpressions
/// requirement must hold. An empty selector selects every agent.
/// </summary>
public sealed class LabelSelector
{
    public static readonly string[] Operators = ["In", "NotIn", "Exists", "DoesNotExist"];

    public LabelSelector(IReadOnlyDictionary<string, string>? matchLabels, IReadOnlyList<LabelRequirement>? matchExpressions)
    {
        MatchLabels = matchLabels ?? new Dictionary<string, string>();
        MatchExpressions = matchExpressions ?? [];
        foreach (var r in MatchExpressions)
        {
            if (!Operators.Contains(r.Operator))
            {
                throw new ArgumentException($"operator '{r.Operator}' is not one of {string.Join(", ", Operators)}");
            }
            if (r.Operator is "In" or "NotIn" && r.Values.Count == 0)
            {
                throw new ArgumentException($"'{r.Key}' {r.Operator} needs at least one value");
            }
            if (r.Operator is "Exists" or "DoesNotExist" && r.Values.Count > 0)
            {
                throw new ArgumentException($"'{r.Key}' {r.Operator} takes no values");
            }
        }
    }

    public static LabelSelector Everything { get; } = new(null, null);

    public IReadOnlyDictionary<string, string> MatchLabels { get; }

    public IReadOnlyList<LabelRequirement> MatchExpressions { get; }

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, value) in MatchLabels)
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }
        foreach (var r in MatchExpressions)
        {
            var has = labels.TryGetValue(r.Key, out var actual);
            var ok = r.Operator switch
            {
                "In" => has && r.Values.Contains(actual!),
                "NotIn" => !has || !r.Values.Contains(actual!),
                "Exists" => has,
                _ => !has,
            };
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }
}
