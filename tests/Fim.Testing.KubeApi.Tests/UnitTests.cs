using System.Text.Json.Nodes;
using Fim.Testing.KubeApi.Model;
using Fim.Testing.KubeApi.Patching;
using Fim.Testing.KubeApi.Printing;
using Fim.Testing.KubeApi.Schema;

namespace Fim.Testing.KubeApi.Tests;

/// <summary>The pure pieces: patches, schema, JSONPath, durations.</summary>
public sealed class UnitTests
{
    private static JsonObject O(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void Merge_patch_follows_rfc7386()
    {
        var result = MergePatch.Apply(O("""{"a":"b","c":{"d":"e","f":"g"},"l":[1,2]}"""), O("""{"a":"z","c":{"f":null},"l":[3]}"""));
        Assert.True(JsonNode.DeepEquals(O("""{"a":"z","c":{"d":"e"},"l":[3]}"""), result));
    }

    [Fact]
    public void Json_patch_supports_all_operations()
    {
        var doc = O("""{"a":{"b":1},"l":[1,2,3]}""");
        var result = JsonPatch.Apply(doc, """
            [{"op":"add","path":"/a/c","value":2},{"op":"remove","path":"/l/0"},{"op":"replace","path":"/a/b","value":9},
             {"op":"copy","from":"/a/b","path":"/x"},{"op":"move","from":"/x","path":"/y"},{"op":"add","path":"/l/-","value":4},
             {"op":"test","path":"/y","value":9},{"op":"add","path":"/k~1s","value":true}]
            """);
        Assert.True(JsonNode.DeepEquals(O("""{"a":{"b":9,"c":2},"l":[2,3,4],"y":9,"k/s":true}"""), result), result.ToJsonString());
        Assert.True(JsonNode.DeepEquals(O("""{"a":{"b":1},"l":[1,2,3]}"""), doc)); // input untouched
        Assert.Equal(422, Assert.Throws<ApiError>(() => JsonPatch.Apply(doc, """[{"op":"remove","path":"/nope"}]""")).Code);
    }

    [Fact]
    public void Strategic_merge_patch_merges_known_lists_by_key_and_honours_directives()
    {
        var live = O("""
            {"spec":{"containers":[{"name":"a","image":"x:1","env":[{"name":"E","value":"1"}],"ports":[{"containerPort":80}]},{"name":"b","image":"y:1"}],
             "tolerations":[{"key":"t1"}]},"metadata":{"finalizers":["f1"]}}
            """);
        var patch = O("""
            {"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],
                     "containers":[{"name":"a","image":"x:2","env":[{"name":"F","value":"2"}],"ports":[{"containerPort":443}]}],
                     "tolerations":[{"key":"t2"}]},
             "metadata":{"finalizers":["f2"],"$deleteFromPrimitiveList/finalizers":["f1"]}}
            """);
        var result = StrategicMergePatch.Apply(live, patch);
        var containers = result["spec"]!["containers"]!.AsArray();
        Assert.Equal(["b", "a"], containers.Select(c => (string?)c!["name"]));
        var a = containers[1]!;
        Assert.Equal("x:2", (string?)a["image"]);
        Assert.Equal(["E", "F"], a["env"]!.AsArray().Select(e => (string?)e!["name"]));
        Assert.Equal([80, 443], a["ports"]!.AsArray().Select(p => (int)p!["containerPort"]!));
        Assert.Equal(["t2"], result["spec"]!["tolerations"]!.AsArray().Select(t => (string?)t!["key"]));
        Assert.Equal(["f2"], result["metadata"]!["finalizers"]!.AsArray().Select(f => (string?)f));

        var replaced = StrategicMergePatch.Apply(live, O("""{"spec":{"containers":[{"$patch":"replace"},{"name":"c","image":"z"}]}}"""));
        Assert.Equal(["c"], replaced["spec"]!["containers"]!.AsArray().Select(c => (string?)c!["name"]));
        var retained = StrategicMergePatch.Apply(O("""{"s":{"type":"A","a":1}}"""), O("""{"s":{"$retainKeys":["type","b"],"type":"B","b":2}}"""));
        Assert.True(JsonNode.DeepEquals(O("""{"s":{"type":"B","b":2}}"""), retained));
    }

    [Fact]
    public void Schema_prunes_defaults_and_validates()
    {
        var schema = O("""
            {"type":"object","properties":{
              "spec":{"type":"object","required":["name"],"properties":{
                 "name":{"type":"string","maxLength":5},
                 "when":{"type":"string","format":"date-time"},
                 "n":{"type":"integer","minimum":1,"exclusiveMinimum":true,"multipleOf":2},
                 "opt":{"type":"string","nullable":true},
                 "d":{"type":"string","default":"x"},
                 "nested":{"type":"object","default":{},"properties":{"inner":{"type":"integer","default":3}}},
                 "anything":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
                 "one":{"type":"string","oneOf":[{"pattern":"^a"},{"pattern":"b$"}]}}}}}
            """);
        var obj = O("""{"apiVersion":"x/v1","kind":"K","metadata":{"name":"n","junk":1},"spec":{"name":"toolong","n":1,"opt":null,"d":null,"x":1,"anything":{"y":2},"when":"yesterday","one":"ab"}}""");
        var unknown = StructuralSchema.Prune(obj, schema);
        Assert.Equal(["metadata.junk", "spec.x"], unknown);
        StructuralSchema.ApplyDefaults(obj, schema);
        Assert.Equal("x", (string?)obj["spec"]!["d"]);
        Assert.Equal(3, (int?)obj["spec"]!["nested"]!["inner"]);
        Assert.True(obj["spec"]!.AsObject().ContainsKey("opt"));
        Assert.Equal(2, (int?)obj["spec"]!["anything"]!["y"]);

        var errors = StructuralSchema.Validate(obj, schema).Select(e => e.ToString()).ToList();
        Assert.Contains("spec.name: Too long: may not be longer than 5", errors);
        Assert.Contains("spec.n: Invalid value: 1: spec.n in body should be greater than 1", errors);
        Assert.Contains("spec.n: Invalid value: 1: spec.n in body should be a multiple of 2", errors);
        Assert.Contains("spec.when: Invalid value: \"yesterday\": spec.when in body must be of type date-time: \"yesterday\"", errors);
        Assert.Contains("spec.one: Invalid value: \"ab\": spec.one in body must validate one and only one schema (oneOf)", errors);
        Assert.Equal(5, errors.Count);

        var missing = StructuralSchema.Validate(O("""{"spec":{}}"""), schema).Select(e => e.ToString());
        Assert.Equal(["spec.name: Required value"], missing);
    }

    [Theory]
    [InlineData(".spec.severity", "high")]
    [InlineData(".status.conditions[?(@.type==\"Ready\")].status", "True")]
    [InlineData("{.status.conditions[1].reason}", "Done")]
    [InlineData(".status.conditions[-1].type", "Ready")]
    [InlineData(".metadata.labels['app.kubernetes.io/name']", "fim")]
    [InlineData(".spec.paths[*].path", "/etc")]
    [InlineData(".spec.missing", null)]
    public void JsonPath_subset_evaluates(string path, string? expected)
    {
        var obj = O("""
            {"metadata":{"labels":{"app.kubernetes.io/name":"fim"}},"spec":{"severity":"high","paths":[{"path":"/etc"},{"path":"/usr"}]},
             "status":{"conditions":[{"type":"Synced","status":"False"},{"type":"Ready","status":"True","reason":"Done"}]}}
            """);
        var result = JsonPathLite.Evaluate(obj, path);
        Assert.Equal(expected, result.Count == 0 ? null : JsonPathLite.Text(result[0]));
    }

    [Theory]
    [InlineData(5, "5s")]
    [InlineData(119, "119s")]
    [InlineData(150, "2m30s")]
    [InlineData(600, "10m")]
    [InlineData(3 * 3600 + 120, "3h2m")]
    [InlineData(30 * 3600, "30h")]
    [InlineData(3 * 86400 + 3600, "3d1h")]
    [InlineData(400 * 86400, "400d")]
    public void Ages_print_like_kubectl(int seconds, string expected) =>
        Assert.Equal(expected, TablePrinter.HumanDuration(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Yaml_bodies_resolve_scalars()
    {
        var obj = YamlJson.ParseObject("a: 1\nb: '1'\nc: true\nd: null\ne: 1.5\nf: [x, 2]\ng: {h: i}\n");
        Assert.True(JsonNode.DeepEquals(O("""{"a":1,"b":"1","c":true,"d":null,"e":1.5,"f":["x",2],"g":{"h":"i"}}"""), obj), obj.ToJsonString());
    }
}
