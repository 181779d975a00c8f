using System.Text.RegularExpressions;
using Fim.Core.Policy;
using Fim.Operator.Api;

namespace Fim.Operator.Controllers.Policy;

/// <summary>Result of validating a FimPolicy: null Problem means valid.</summary>
public sealed record PolicyValidation(CompiledPolicy? Compiled, string? Field, string? Problem)
{
    public bool IsValid => Problem is null;
}

/// <summary>
/// Pure: the selector's rules, then the spec through Fim.Core's own reader and compiler (exactly what the agent will
/// run on the KV value), so a policy the operator accepts is one the agent can apply.
/// </summary>
public static partial class PolicyValidator
{
    public static PolicyValidation Validate(string ns, string name, FimPolicySpec spec)
    {
        if (SelectorProblem(spec.Selector) is { } selector)
        {
            return new PolicyValidation(null, selector.Field, selector.Message);
        }

        try
        {
            var source = $"FimPolicy {ns}/{name}";
            var core = PolicyLoader.LoadYaml(PolicyDocuments.CoreSpec(spec).ToJsonString(), source);
            core.Name = $"{ns}/{name}";
            return new PolicyValidation(PolicyCompiler.Compile(core, source), null, null);
        }
        catch (PolicyException e)
        {
            var field = e.FieldPath is { } f ? "spec." + f : "spec";
            return new PolicyValidation(null, field, string.Join("; ", e.Problems.Select(Describe)));
        }
    }

    /// <summary>"spec.paths[0].path: must be ..." whether or not the core message already starts with its field.</summary>
    private static string Describe(PolicyProblem p) => p.FieldPath switch
    {
        null => p.Message,
        { } fp when p.Message.StartsWith(fp, StringComparison.Ordinal) => "spec." + p.Message,
        { } fp => $"spec.{fp}: {p.Message}",
    };

    private static (string Field, string Message)? SelectorProblem(AgentSelector? selector)
    {
        foreach (var (k, v) in selector?.MatchLabels ?? [])
        {
            if (!LabelKey().IsMatch(k))
            {
                return ("spec.selector.matchLabels", $"spec.selector.matchLabels: '{k}' is not a valid label key");
            }

            if (!LabelValue().IsMatch(v))
            {
                return ($"spec.selector.matchLabels.{k}", $"spec.selector.matchLabels.{k}: '{v}' is not a valid label value");
            }
        }

        var i = 0;
        foreach (var r in selector?.MatchExpressions ?? [])
        {
            var at = $"spec.selector.matchExpressions[{i++}]";
            if (!LabelKey().IsMatch(r.Key))
            {
                return (at + ".key", $"{at}.key: '{r.Key}' is not a valid label key");
            }

            var count = r.Values?.Count ?? 0;
            if (r.Operator is "In" or "NotIn" && count == 0)
            {
                return (at + ".values", $"{at}.values: operator {r.Operator} needs at least one value");
            }

            if (r.Operator is "Exists" or "DoesNotExist" && count > 0)
            {
                return (at + ".values", $"{at}.values: operator {r.Operator} takes no values");
            }

            if (r.Operator is not ("In" or "NotIn" or "Exists" or "DoesNotExist"))
            {
                return (at + ".operator", $"{at}.operator: '{r.Operator}' is not In, NotIn, Exists or DoesNotExist");
            }
        }

        return null;
    }

    [GeneratedRegex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex LabelKey();

    [GeneratedRegex("^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")]
    private static partial Regex LabelValue();
}
