using k8s.Models;

namespace Fim.Deploy.Tests;

public sealed class RbacTests
{
    private static string PermissionsSource => Path.Combine(Repo.Root, "src", "Fim.Operator", "OperatorPermissions.cs");

    /// <summary>group|resource|verb for every rule of OperatorPermissions.Rules (read from its source text).</summary>
    private static HashSet<string> OperatorCalls()
    {
        var rules = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(PermissionsSource),
            @"new\(""(?<g>[^""]*)"",\s*""(?<r>[^""]+)"",\s*\[(?<v>[^\]]*)\]\)");
        Assert.NotEmpty(rules);
        return rules.SelectMany(m => m.Groups["v"].Value.Split(',').Select(v => v.Trim().Trim('"'))
            .Select(v => $"{m.Groups["g"].Value}|{m.Groups["r"].Value}|{v}")).ToHashSet();
    }

    private static IEnumerable<(string Kind, string? Namespace, V1PolicyRule Rule)> Rules(List<string> docs) =>
        docs.Select(d => (Id: HelmRender.Id(d), Doc: d))
            .Where(x => x.Id.Kind is "ClusterRole" or "Role")
            .SelectMany(x => x.Id.Kind == "ClusterRole"
                ? ((V1ClusterRole)StrictValidation.ParseTyped(x.Doc)).Rules.Select(r => (x.Id.Kind, (string?)null, r))
                : ((V1Role)StrictValidation.ParseTyped(x.Doc)).Rules.Select(r => (x.Id.Kind, (string?)HelmRender.Namespace, r)));

    [Theory]
    [InlineData("cluster")]
    [InlineData("namespace")]
    public void Operator_roles_grant_exactly_what_it_calls_and_no_wildcards(string scope)
    {
        var docs = HelmRender.Render($"operator.scope={scope}");
        var rules = Rules(docs).ToList();
        Assert.NotEmpty(rules);
        foreach (var (_, _, r) in rules)
        {
            Assert.DoesNotContain("*", r.Verbs);
            Assert.DoesNotContain("*", r.Resources ?? []);
            Assert.DoesNotContain("*", r.ApiGroups ?? []);
            Assert.Null(r.NonResourceURLs);
            Assert.Null(r.ResourceNames);
        }
        var granted = rules.SelectMany(x => from g in x.Rule.ApiGroups from res in x.Rule.Resources from v in x.Rule.Verbs select $"{g}|{res}|{v}").ToHashSet();
        // Nodes are cluster-scoped: with scope=namespace the operator runs with --namespace and does not watch them.
        Assert.Equal(OperatorCalls().Where(c => scope == "cluster" || !c.StartsWith("|nodes|", StringComparison.Ordinal)).Order(), granted.Order());

        // Leases only in the release namespace; with scope=namespace nothing is cluster-wide.
        Assert.All(rules.Where(x => x.Rule.Resources.Contains("leases")), x => Assert.Equal("Role", x.Kind));
        if (scope == "namespace")
        {
            Assert.DoesNotContain(docs, d => HelmRender.Id(d).Kind is "ClusterRole" or "ClusterRoleBinding");
        }
    }

    [Fact]
    public void Owner_reference_enforcement_adds_only_the_pool_finalizers_update()
    {
        var granted = Rules(HelmRender.Render("operator.rbac.ownerReferencesPermissionEnforcement=true"))
            .SelectMany(x => from g in x.Rule.ApiGroups from res in x.Rule.Resources from v in x.Rule.Verbs select $"{g}|{res}|{v}").ToHashSet();
        granted.ExceptWith(OperatorCalls());
        Assert.Equal(["fim.io|fimmanagerpools/finalizers|update"], granted);
    }

    [Fact]
    public void Chaos_adds_only_pod_list_and_delete_and_only_when_asked()
    {
        static HashSet<string> Granted(params string[] sets) => Rules(HelmRender.Render(sets))
            .SelectMany(x => from g in x.Rule.ApiGroups from res in x.Rule.Resources from v in x.Rule.Verbs select $"{g}|{res}|{v}").ToHashSet();
        Assert.DoesNotContain(Granted(), c => c.StartsWith("|pods|", StringComparison.Ordinal));
        var granted = Granted("operator.rbac.chaos=true");
        granted.ExceptWith(OperatorCalls());
        Assert.Equal(["|pods|delete", "|pods|list"], granted.Order());
        // The same rule the operator's code declares (OperatorChaosPermissions), so the two cannot drift.
        Assert.Contains("new(\"\", \"pods\", [\"list\", \"delete\"])", File.ReadAllText(Path.Combine(Repo.Root, "src", "Fim.Operator", "OperatorChaosPermissions.cs")));
    }

    [Fact]
    public void Bindings_name_the_operator_service_account_only()
    {
        var docs = HelmRender.Render();
        var bindings = docs.Where(d => HelmRender.Id(d).Kind is "ClusterRoleBinding" or "RoleBinding").ToList();
        Assert.Equal(2, bindings.Count);
        foreach (var b in bindings)
        {
            var subjects = HelmRender.Id(b).Kind == "RoleBinding"
                ? ((V1RoleBinding)StrictValidation.ParseTyped(b)).Subjects
                : ((V1ClusterRoleBinding)StrictValidation.ParseTyped(b)).Subjects;
            var s = Assert.Single(subjects);
            Assert.Equal("ServiceAccount", s.Kind);
            Assert.Equal("rel-fim-operator", s.Name);
            Assert.Equal(HelmRender.Namespace, s.NamespaceProperty);
        }
        // The agent's service account gets no token and no role.
        var agentSa = (V1ServiceAccount)StrictValidation.ParseTyped(docs.Single(d => HelmRender.Id(d) is { Kind: "ServiceAccount", Name: "rel-fim-agent" }));
        Assert.False(agentSa.AutomountServiceAccountToken);
    }
}
