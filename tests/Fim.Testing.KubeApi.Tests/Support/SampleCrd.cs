using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Fim.Testing.KubeApi.Tests.Support;

/// <summary>A FimPolicy-like CRD for the double's own tests (the project's real CRDs come later).</summary>
internal static class SampleCrd
{
    public const string Group = "fim.io";
    public const string Version = "v1alpha1";
    public const string Plural = "fimpolicies";

    public const string Yaml = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: fimpolicies.fim.io
        spec:
          group: fim.io
          scope: Namespaced
          names:
            plural: fimpolicies
            singular: fimpolicy
            kind: FimPolicy
            listKind: FimPolicyList
            shortNames: [fp]
            categories: [fim]
          versions:
          - name: v1alpha1
            served: true
            storage: true
            subresources:
              status: {}
            additionalPrinterColumns:
            - name: Severity
              type: string
              jsonPath: .spec.severity
            - name: Paths
              type: integer
              jsonPath: .status.pathCount
            - name: Ready
              type: string
              jsonPath: .status.conditions[?(@.type=="Ready")].status
            - name: Age
              type: date
              jsonPath: .metadata.creationTimestamp
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    required: [paths]
                    properties:
                      severity:
                        type: string
                        enum: [low, medium, high]
                        default: medium
                      realtime:
                        type: boolean
                        default: true
                      paths:
                        type: array
                        minItems: 1
                        maxItems: 3
                        items:
                          type: object
                          required: [path]
                          properties:
                            path:
                              type: string
                              pattern: '^/'
                              minLength: 1
                            maxDepth:
                              type: integer
                              minimum: 0
                              maximum: 64
                            hashes:
                              type: array
                              items:
                                type: string
                                enum: [sha256, sha512]
                      selector:
                        type: object
                        additionalProperties:
                          type: string
                      extra:
                        type: object
                        x-kubernetes-preserve-unknown-fields: true
                      rate:
                        x-kubernetes-int-or-string: true
                      exclusions:
                        type: array
                        x-kubernetes-list-type: map
                        x-kubernetes-list-map-keys: [name]
                        items:
                          type: object
                          required: [name]
                          properties:
                            name: {type: string}
                            glob: {type: string}
                      tags:
                        type: array
                        x-kubernetes-list-type: set
                        items: {type: string}
                  status:
                    type: object
                    properties:
                      pathCount:
                        type: integer
                      observedGeneration:
                        type: integer
                      conditions:
                        type: array
                        items:
                          type: object
                          properties:
                            type: {type: string}
                            status: {type: string}
        """;

    public static V1CustomResourceDefinition Definition() => KubernetesYaml.Deserialize<V1CustomResourceDefinition>(Yaml);

    public static async Task RegisterAsync(Kubernetes client)
    {
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(Definition());
    }

    public static FimPolicy Policy(string name, string path = "/etc", string? severity = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new JsonObject
        {
            ["paths"] = new JsonArray(new JsonObject { ["path"] = path }),
        }.Also(s =>
        {
            if (severity is not null)
            {
                s["severity"] = severity;
            }
        }),
    };

    private static JsonObject Also(this JsonObject o, Action<JsonObject> a)
    {
        a(o);
        return o;
    }
}

internal sealed class FimPolicy : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = "fim.io/v1alpha1";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "FimPolicy";

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public JsonObject? Spec { get; set; }

    [JsonPropertyName("status")]
    public JsonObject? Status { get; set; }
}

internal sealed class FimPolicyList : IKubernetesObject<V1ListMeta>, IItems<FimPolicy>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = "fim.io/v1alpha1";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "FimPolicyList";

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<FimPolicy> Items { get; set; } = [];
}
