using System.Net;
using Fim.Testing.KubeApi.Selectors;
using k8s;
using k8s.Models;
using static Fim.Testing.KubeApi.Tests.Support.TestServer;

namespace Fim.Testing.KubeApi.Tests;

public sealed class SelectorTests
{
    [Theory]
    [InlineData("app=web", "a")]
    [InlineData("app==web", "a")]
    [InlineData("app!=web", "b,c,d")]
    [InlineData("app in (web,db)", "a,b")]
    [InlineData("app notin (web,db)", "c,d")]
    [InlineData("tier", "a,c")]
    [InlineData("!tier", "b,d")]
    [InlineData("app in (web, db),tier=front", "a")]
    [InlineData("", "a,b,c,d")]
    public async Task Label_selectors_filter_lists(string selector, string expected)
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", new Dictionary<string, string> { ["app"] = "web", ["tier"] = "front" }), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b", new Dictionary<string, string> { ["app"] = "db" }), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c", new Dictionary<string, string> { ["app"] = "cache", ["tier"] = "back" }), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("d"), "default");

        var list = await client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: selector);
        Assert.Equal(expected, string.Join(",", list.Items.Select(i => i.Metadata.Name)));
    }

    [Fact]
    public async Task Field_selectors_on_name_and_namespace_and_bad_selectors_are_400()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "other" } });
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b"), "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), "other");

        Assert.Equal(["a"], (await client.CoreV1.ListNamespacedConfigMapAsync("default", fieldSelector: "metadata.name=a")).Items.Select(i => i.Metadata.Name));
        Assert.Equal(["b"], (await client.CoreV1.ListNamespacedConfigMapAsync("default", fieldSelector: "metadata.name!=a")).Items.Select(i => i.Metadata.Name));
        var all = await client.CoreV1.ListConfigMapForAllNamespacesAsync(fieldSelector: "metadata.namespace==other");
        Assert.Equal([("other", "a")], all.Items.Select(i => (i.Metadata.NamespaceProperty, i.Metadata.Name)));

        var (code, status) = await FailureOf(() => client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: "app in web"));
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.StartsWith("unable to parse requirement", (string?)status["message"]);
    }

    [Fact]
    public void Parser_handles_the_grammar()
    {
        var labels = new Dictionary<string, string> { ["env"] = "prod", ["rank"] = "7" };
        Assert.True(LabelSelector.Parse("env=prod,rank>5").Matches(labels));
        Assert.False(LabelSelector.Parse("rank<5").Matches(labels));
        Assert.True(LabelSelector.Parse(" env in ( prod , dev ) ").Matches(labels));
        Assert.False(LabelSelector.Parse("!env").Matches(labels));
        Assert.Throws<Model.ApiError>(() => LabelSelector.Parse("env=a b"));
        Assert.Throws<Model.ApiError>(() => FieldSelector.Parse("metadata.name"));
    }
}
