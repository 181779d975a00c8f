using Fim.Core.Policy;

namespace Fim.Core.Tests.Policy;

public class PodSelectionTests
{
    [Fact]
    public void A_pod_selection_compiles_and_selects_by_namespace_labels_and_container()
    {
        var spec = PolicyLoader.LoadYaml("""
            name: shop-web
            pods:
              namespaces: [shop]
              matchLabels: { app: web }
              matchExpressions:
                - { key: tier, operator: NotIn, values: [debug] }
              containers: [nginx]
            paths:
              - path: /etc
            """, "test.yaml");

        var pods = PolicyCompiler.Compile(spec).Pods!;

        Assert.True(pods.SelectsPod("shop", new Dictionary<string, string> { ["app"] = "web" }));
        Assert.False(pods.SelectsPod("other", new Dictionary<string, string> { ["app"] = "web" }));
        Assert.False(pods.SelectsPod("shop", new Dictionary<string, string> { ["app"] = "web", ["tier"] = "debug" }));
        Assert.False(pods.SelectsPod("shop", new Dictionary<string, string> { ["app"] = "db" }));
        Assert.True(pods.SelectsContainer("nginx"));
        Assert.False(pods.SelectsContainer("sidecar"));
    }

    [Fact]
    public void Without_pods_the_policy_is_about_the_node()
    {
        var spec = PolicyLoader.LoadYaml("paths: [{ path: /etc }]\n", "test.yaml");
        Assert.Null(PolicyCompiler.Compile(spec).Pods);
    }

    [Theory]
    [InlineData("namespaces: [Shop_1]", "pods.namespaces[0]")]
    [InlineData("containers: ['']", "pods.containers[0]")]
    [InlineData("matchExpressions: [{ key: a, operator: Near, values: [x] }]", "pods.matchExpressions")]
    [InlineData("matchExpressions: [{ key: a, operator: Exists, values: [x] }]", "pods.matchExpressions")]
    [InlineData("colour: red", "colour")]
    public void A_bad_pod_selection_names_the_field(string pods, string field)
    {
        var e = Assert.ThrowsAny<PolicyException>(() => PolicyCompiler.Compile(PolicyLoader.LoadYaml($"pods: {{ {pods} }}\npaths: [{{ path: /etc }}]\n", "test.yaml")));
        Assert.Contains(field, e.Message);
    }
}
