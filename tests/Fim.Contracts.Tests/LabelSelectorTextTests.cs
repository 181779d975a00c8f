namespace Fim.Contracts.Tests;

public sealed class LabelSelectorTextTests
{
    private static readonly Dictionary<string, string> Payments = new() { ["team"] = "payments", ["zone"] = "a", ["canary"] = "yes" };

    [Theory]
    [InlineData("", true)]
    [InlineData("team=payments", true)]
    [InlineData("team==payments", true)]
    [InlineData("team!=payments", false)]
    [InlineData("team=web", false)]
    [InlineData("zone in (a, b),team", true)]
    [InlineData("zone notin (a,b)", false)]
    [InlineData("!canary", false)]
    [InlineData("!legacy,canary", true)]
    [InlineData("example.com/tier=gold", false)]
    public void The_kubectl_forms_select_as_kubernetes_does(string text, bool matches)
    {
        var selector = LabelSelectorText.Parse(text, out var problem);
        Assert.Null(problem);
        Assert.NotNull(selector);
        Assert.Null(selector.Problem());
        Assert.Equal(matches, selector.Matches(Payments));
    }

    [Theory]
    [InlineData("team in (a", "unbalanced parentheses")]
    [InlineData("=x", "'=x': a label key is missing")]
    [InlineData("team=a b", "'team=a b': label value 'a b' may hold only")]
    [InlineData("a,,b", "empty requirement")]
    [InlineData("team in a,b", "must be in parentheses")]
    [InlineData("team=a,team=b", "'team=b': 'team' is already required to be 'a'")]
    [InlineData("-team=a", "must start and end with a letter or digit")]
    public void Bad_text_names_the_requirement_and_the_problem(string text, string expected)
    {
        Assert.Null(LabelSelectorText.Parse(text, out var problem));
        Assert.Contains(expected, problem);
    }
}
