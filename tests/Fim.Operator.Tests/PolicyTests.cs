using Fim.Testing;
using Fim.Contracts;
using System.Reflection;
using System.Text.Json;
using Fim.Core.Policy;
using Fim.Operator.Api;
using Fim.Operator.Controllers.Policy;
using Fim.Operator.Runtime;
using k8s.Models;

namespace Fim.Operator.Tests;

public sealed class PolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_CR_spec_mirrors_every_field_of_the_core_policy_model()
    {
        static HashSet<string> Names(Type t) => [.. t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name))];
        var pairs = new[] { (typeof(PolicySpec), typeof(FimPolicySpec)), (typeof(PathRule), typeof(FimPathRule)), (typeof(ScheduleSpec), typeof(FimSchedule)), (typeof(ThrottleSpec), typeof(FimThrottle)), (typeof(DiffsSpec), typeof(FimDiffs)), (typeof(FlappingSpec), typeof(FimFlapping)), (typeof(PodSelectionSpec), typeof(FimPodSelection)) };
        foreach (var (core, cr) in pairs)
        {
            var missing = Names(core).Except(Names(cr)).Except(["name"]).ToList();
            Assert.True(missing.Count == 0, $"{cr.Name} lacks {string.Join(", ", missing)} of {core.Name}");
            var extra = Names(cr).Except(Names(core)).Except(["nodeMaintenance"]).ToList(); // operator-only
            Assert.True(extra.Count == 0, $"{cr.Name} has {string.Join(", ", extra)} that {core.Name} does not know");
        }
    }

    [Fact]
    public void A_valid_spec_compiles_with_the_core_compiler()
    {
        var v = PolicyValidator.Validate("default", "p", Samples.Policy("p").Spec);
        Assert.True(v.IsValid, v.Problem);
        Assert.Equal("default/p", v.Compiled!.Name);
    }

    [Theory]
    [InlineData("etc", "spec.paths[0].path")]
    [InlineData("/etc/[", "spec.paths[0]")]
    public void An_invalid_path_is_refused_naming_the_field(string path, string field)
    {
        var spec = Samples.Policy("p").Spec;
        spec.Paths[0].Path = path;
        if (path.EndsWith('['))
        {
            spec.Paths[0].Path = "/etc";
            spec.Paths[0].Exclude = ["[unclosed"];
        }

        var v = PolicyValidator.Validate("default", "p", spec);
        Assert.False(v.IsValid);
        Assert.StartsWith(field, v.Field);
        Assert.Contains(field, v.Problem);
    }

    [Fact]
    public void A_bad_duration_is_refused_naming_the_field()
    {
        var spec = Samples.Policy("p").Spec;
        spec.Schedule = new FimSchedule { RescanInterval = "soon" };
        var v = PolicyValidator.Validate("default", "p", spec);
        Assert.False(v.IsValid);
        Assert.Contains("schedule.rescanInterval", v.Problem);
    }

    [Theory]
    [InlineData("In", 0, "spec.selector.matchExpressions[0].values")]
    [InlineData("Exists", 1, "spec.selector.matchExpressions[0].values")]
    public void Selector_rules_are_checked(string op, int values, string field)
    {
        var spec = Samples.Policy("p").Spec;
        spec.Selector = new AgentSelector { MatchExpressions = [new SelectorRequirement { Key = "zone", Operator = op, Values = [.. Enumerable.Repeat("a", values)] }] };
        var v = PolicyValidator.Validate("default", "p", spec);
        Assert.Equal(field, v.Field);
    }

    [Fact]
    public void The_KV_value_is_the_documented_v1_document_and_its_spec_is_what_the_core_reader_takes()
    {
        var p = Samples.Policy("p", matchLabels: new() { ["role"] = "web" });
        var bytes = PolicyDocuments.PolicyValue("team-a", "p", 7, p.Spec);
        using var doc = JsonDocument.Parse(bytes);
        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(7, root.GetProperty("revision").GetInt64());
        Assert.Equal("team-a/p", root.GetProperty("name").GetString());
        Assert.Equal("web", root.GetProperty("selector").GetProperty("matchLabels").GetProperty("role").GetString());
        Assert.False(root.GetProperty("spec").TryGetProperty("selector", out _));
        var core = PolicyLoader.LoadYaml(root.GetProperty("spec").GetRawText(), "kv");
        Assert.Equal("/etc", core.Paths[0].Path);
        Assert.Equal(7, PolicyDocuments.ReadRevision(bytes));
        Assert.Equal(bytes, PolicyDocuments.PolicyValue("team-a", "p", 7, p.Spec)); // deterministic: equal bytes mean no write
    }

    [Fact]
    public void Targeted_agents_match_the_selector_applied_ones_report_the_revision_and_stale_ones_do_not_count()
    {
        var selector = new AgentSelector
        {
            MatchLabels = new() { ["role"] = "web" },
            MatchExpressions = [new SelectorRequirement { Key = "zone", Operator = "NotIn", Values = ["z9"] }],
        };
        Heartbeat Agent(string id, string role, long? rev, string zone = "z1", int ageMinutes = 0) =>
            TestHeartbeats.Make(id, new Dictionary<string, string> { ["role"] = role, ["zone"] = zone },
                rev is null ? new Dictionary<string, long>() : new Dictionary<string, long> { ["ns/p"] = rev.Value }, Now.AddMinutes(-ageMinutes));
        var agents = new[] { Agent("a", "web", 2), Agent("b", "web", 1), Agent("c", "db", 2), Agent("d", "web", 2, zone: "z9"), Agent("e", "web", 2, ageMinutes: 10), Agent("f", "web", null) };
        Assert.Equal((3, 1), PolicyStatusCalculator.Count("ns", "p", selector, 2, agents, Now, TimeSpan.FromMinutes(5)));
        Assert.Equal((5, 3), PolicyStatusCalculator.Count("ns", "p", null, 2, agents, Now, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void Invalid_keeps_the_published_revision_and_valid_again_flips_accepted()
    {
        var p = Samples.Policy("p");
        p.Metadata.Generation = 2;
        p.Status = PolicyStatusCalculator.Published(p, 1, (4, 4), Now.UtcDateTime);
        var bad = PolicyStatusCalculator.Invalid(p, new PolicyValidation(null, "spec.paths[0].path", "spec.paths[0].path: must be absolute"), Now.UtcDateTime);
        Assert.Equal(1, bad.PublishedRevision);
        var accepted = Conditions.Find(bad.Conditions, "Accepted")!;
        Assert.Equal(("False", "InvalidSpec"), (accepted.Status, accepted.Reason));
        Assert.Contains("spec.paths[0].path", accepted.Message);
        Assert.False(PolicyStatusCalculator.Same(p.Status, bad));
        Assert.True(PolicyStatusCalculator.Same(p.Status, PolicyStatusCalculator.Published(p, 1, (4, 4), Now.UtcDateTime.AddHours(1))));
    }
}
