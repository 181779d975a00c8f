using Fim.Testing;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fim.Deploy.Tests;

/// <summary>
/// Schemas of the third-party custom resources the chart renders or the repository ships, from inside the repository:
/// prometheus-operator's as the validators npm's @kubernetes-models/prometheus-operator generates from its API types
/// (scripts/install-deps.sh installs them into .cache/k8s-models, scripts/validate-k8s-models.mjs runs them); Velero's
/// CRDs are in no registry reachable here, so they are read from .cache/k8s-schemas/ where a user put them.
/// </summary>
public static class ThirdPartySchemas
{
    public static string ModelsDir => Path.Combine(Repo.Root, ".cache", "k8s-models");

    public static string CrdDir => Path.Combine(Repo.Root, ".cache", "k8s-schemas");

    public static string VeleroScheduleCrd => Path.Combine(CrdDir, "velero.io_schedules.yaml");

    private static string ModelsPackage => Path.Combine(ModelsDir, "node_modules", "@kubernetes-models", "prometheus-operator", "package.json");

    /// <summary>Why prometheus-operator's objects cannot be validated here, or null when they can.</summary>
    public static string? PrometheusOperatorMissing =>
        !Repo.OnPath("node") ? "node is not on PATH (it runs the @kubernetes-models validators)"
        : !File.Exists(ModelsPackage) ? $"prometheus-operator schemas not installed: {ModelsPackage} is missing; run scripts/install-deps.sh (npm @kubernetes-models/prometheus-operator into .cache/k8s-models)"
        : null;

    /// <summary>Why built-in and KEDA objects cannot be validated here (npm kubernetes-models, @kubernetes-models/keda), or null.</summary>
    public static string? KubernetesModelsMissing =>
        !Repo.OnPath("node") ? "node is not on PATH (it runs the kubernetes-models validators)"
        : new[] { "kubernetes-models", Path.Combine("@kubernetes-models", "keda"), Path.Combine("@kubernetes-models", "prometheus-operator") }
            .Select(p => Path.Combine(ModelsDir, "node_modules", p, "package.json")).FirstOrDefault(p => !File.Exists(p)) is { } missing
            ? $"Kubernetes schema validators not installed: {missing} is missing; run scripts/install-deps.sh (npm kubernetes-models and @kubernetes-models/* into .cache/k8s-models)"
            : null;

    /// <summary>
    /// For each YAML document, its errors against its Kubernetes schema (empty: valid): built-in kinds, KEDA and
    /// prometheus-operator kinds, strictly (undeclared fields are errors). Fails for a kind no installed model covers.
    /// </summary>
    public static List<List<string>> ValidateModels(IReadOnlyList<string> docs)
    {
        Assert.True(KubernetesModelsMissing is null, KubernetesModelsMissing);
        return ValidatePrometheusOperator(docs);
    }

    /// <summary>Why the Velero Schedule cannot be validated here, or null when it can.</summary>
    public static string? VeleroMissing =>
        File.Exists(VeleroScheduleCrd) ? null
        : $"Velero's CRDs are in no package registry this project reaches: {VeleroScheduleCrd} is missing (copy velero.io_schedules.yaml from vmware-tanzu/velero config/crd/v1/bases there to run this check)";

    /// <summary>The groups whose objects <see cref="ValidatePrometheusOperator"/> checks.</summary>
    public static bool IsPrometheusOperator(string apiVersion) => apiVersion.StartsWith("monitoring.coreos.com/", StringComparison.Ordinal);

    /// <summary>For each YAML document, its errors against prometheus-operator's schema (empty: valid).</summary>
    public static List<List<string>> ValidatePrometheusOperator(IReadOnlyList<string> docs)
    {
        var input = Path.Combine(Path.GetTempPath(), $"fim-k8s-models-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(input, new JsonArray(docs.Select(d => StrictValidation.ToJson(HelmRender.Parse(d))).ToArray()).ToJsonString());
            var r = ChildProcess.Run("node", [Path.Combine(Repo.Root, "scripts", "validate-k8s-models.mjs"), input, ModelsDir]).EnsureSuccess();
            var results = JsonSerializer.Deserialize<List<List<string>>>(r.Stdout)!;
            Assert.Equal(docs.Count, results.Count);
            return results;
        }
        finally
        {
            File.Delete(input);
        }
    }
}

/// <summary>A theory that needs prometheus-operator's schemas: skipped, saying what is missing, where they are absent.</summary>
public sealed class NeedsPrometheusOperatorSchemasTheoryAttribute : TheoryAttribute
{
    public NeedsPrometheusOperatorSchemasTheoryAttribute() => Skip = ThirdPartySchemas.PrometheusOperatorMissing;
}

/// <summary>The fact form of <see cref="NeedsPrometheusOperatorSchemasTheoryAttribute"/>.</summary>
public sealed class NeedsPrometheusOperatorSchemasFactAttribute : FactAttribute
{
    public NeedsPrometheusOperatorSchemasFactAttribute() => Skip = ThirdPartySchemas.PrometheusOperatorMissing;
}

/// <summary>A fact that needs Velero's CRDs: skipped, saying what is missing, where they are absent.</summary>
public sealed class NeedsVeleroCrdsFactAttribute : FactAttribute
{
    public NeedsVeleroCrdsFactAttribute() => Skip = ThirdPartySchemas.VeleroMissing;
}

