using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Scanning;

namespace Fim.Core.Tests.Policy;

public class PolicyExclusionTests
{
    [Fact]
    public void A_path_below_a_root_is_left_out_with_everything_under_it()
    {
        var policy = PolicyCompiler.ForPaths(["/srv/data", "/etc"]);
        var excluded = policy.Excluding("/srv/data/state", out var roots);

        Assert.Equal(["/srv/data"], roots);
        var rule = excluded.RuleFor(B("/srv/data/state"))!;
        Assert.False(ScanScope.InScope(rule, B("/srv/data/state")));
        Assert.False(ScanScope.InScope(rule, B("/srv/data/state/baseline.snap")));
        Assert.True(ScanScope.InScope(rule, B("/srv/data/stateful")));
        Assert.True(ScanScope.InScope(rule, B("/srv/data/other")));
        Assert.Empty(excluded.RuleFor(B("/etc/passwd"))!.Exclude);
    }

    [Fact]
    public void A_path_outside_every_root_changes_nothing()
    {
        var policy = PolicyCompiler.ForPaths(["/srv/data"]);
        Assert.Same(policy, policy.Excluding("/var/lib/fim-agent", out var roots));
        Assert.Empty(roots);
    }

    [Fact]
    public void Glob_characters_in_the_path_are_literal()
    {
        var policy = PolicyCompiler.ForPaths(["/srv"]).Excluding("/srv/st[a]te*", out _);
        var rule = policy.Rules[0];
        Assert.False(ScanScope.InScope(rule, B("/srv/st[a]te*/x")));
        Assert.True(ScanScope.InScope(rule, B("/srv/state")));
        Assert.True(ScanScope.InScope(rule, B("/srv/st[a]te-other")));
    }

    private static byte[] B(string s) => PathBytes.FromString(s);
}
