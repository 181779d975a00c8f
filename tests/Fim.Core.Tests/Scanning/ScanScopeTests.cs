using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Scanning;

namespace Fim.Core.Tests.Scanning;

/// <summary>The scope stage alone: which rule governs a path, how deep and below which exclusions a path stops counting.</summary>
public sealed class ScanScopeTests
{
    private static byte[] B(string path) => PathBytes.FromString(path);

    private static CompiledPathRule Rule(string root, int maxDepth = int.MaxValue, bool realtime = true, params string[] exclude) => new()
    {
        Root = B(root),
        MaxDepth = maxDepth,
        Realtime = realtime,
        Exclude = [.. exclude.Select(PathGlob.Compile)],
    };

    private static ScanScope Scope(params CompiledPathRule[] rules) =>
        new(new CompiledPolicy { Name = "t", Rules = [.. rules.OrderByDescending(r => r.Root.Length)] });

    [Theory]
    [InlineData("/etc", 0)]
    [InlineData("/etc/a", 1)]
    [InlineData("/etc/a/b/c", 3)]
    public void Depth_counts_components_below_the_root(string path, int expected) =>
        Assert.Equal(expected, ScanScope.Depth(Rule("/etc"), B(path)));

    [Fact]
    public void Depth_below_the_filesystem_root_does_not_count_the_leading_slash() =>
        Assert.Equal(2, ScanScope.Depth(Rule("/"), B("/usr/bin")));

    [Fact]
    public void A_path_below_an_excluded_directory_is_out_of_scope_but_its_sibling_is_not()
    {
        var scope = Scope(Rule("/srv", exclude: "/srv/cache"));
        Assert.Null(scope.RuleInScope(B("/srv/cache/x/y")));
        Assert.Null(scope.RuleInScope(B("/srv/cache")));
        Assert.NotNull(scope.RuleInScope(B("/srv/cached")));
        Assert.NotNull(scope.RuleInScope(B("/srv")));
    }

    [Fact]
    public void A_path_deeper_than_max_depth_is_out_of_scope_and_the_last_level_is_not_watched()
    {
        var scope = Scope(Rule("/srv", maxDepth: 2));
        Assert.NotNull(scope.RuleInScope(B("/srv/a/b")));
        Assert.Null(scope.RuleInScope(B("/srv/a/b/c")));
        Assert.True(scope.ShouldWatch(B("/srv/a")));
        Assert.False(scope.ShouldWatch(B("/srv/a/b")));
    }

    [Fact]
    public void A_rule_without_realtime_is_not_watched_and_paths_outside_every_rule_have_no_rule()
    {
        var scope = Scope(Rule("/srv", realtime: false), Rule("/etc"));
        Assert.False(scope.ShouldWatch(B("/srv")));
        Assert.True(scope.ShouldWatch(B("/etc")));
        Assert.Null(scope.RuleInScope(B("/var/log")));
    }

    [Fact]
    public void The_most_specific_rule_governs_and_its_root_is_a_nested_root_of_the_outer_walk()
    {
        var outer = Rule("/srv", maxDepth: 1);
        var inner = Rule("/srv/app/data");
        var scope = Scope(outer, inner);
        Assert.Same(inner, scope.RuleInScope(B("/srv/app/data/deep/file")));
        Assert.True(scope.IsNestedRoot(B("/srv/app/data")));
        Assert.False(scope.IsNestedRoot(B("/srv/app")));
    }

    [Fact]
    public void With_a_single_rule_nothing_is_a_nested_root() =>
        Assert.False(Scope(Rule("/srv")).IsNestedRoot(B("/srv")));

    [Fact]
    public void A_subtree_scan_starts_at_the_subtree_and_at_every_rule_root_below_it()
    {
        var scope = Scope(Rule("/srv"), Rule("/srv/app/data"), Rule("/etc"));
        var starts = scope.StartsBelow(B("/srv/app")).Select(p => PathBytes.ToDisplay(p)).ToList();
        Assert.Equal(["/srv/app", "/srv/app/data"], starts);
        Assert.Equal(["/srv/app/data", "/srv", "/etc"], scope.AllRoots().Select(p => PathBytes.ToDisplay(p)));
    }

    [Fact]
    public void Covers_drops_records_a_policy_change_put_out_of_scope()
    {
        var scope = Scope(Rule("/srv", exclude: "/srv/tmp"));
        Assert.True(scope.Covers(B("/srv/a"), FileType.Regular));
        Assert.False(scope.Covers(B("/srv/tmp/a"), FileType.Regular));
        Assert.False(scope.Covers(B("/opt/a"), FileType.Regular));
    }
}
