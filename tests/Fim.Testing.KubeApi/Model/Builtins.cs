namespace Fim.Testing.KubeApi.Model;

/// <summary>The built-in resources the double serves. Objects are stored as plain JSON (no typed validation).</summary>
public static class Builtins
{
    private static ResourceType T(
        string group, string version, string kind, string plural, bool namespaced,
        string[]? shortNames = null, bool status = false, bool generation = false, string[]? categories = null,
        ScaleSpec? scale = null, string[]? verbs = null, bool returnDeleted = false) => new()
        {
            Group = group,
            Version = version,
            Kind = kind,
            Plural = plural,
            Singular = kind.ToLowerInvariant(),
            Namespaced = namespaced,
            ShortNames = shortNames ?? [],
            HasStatus = status,
            HasGeneration = generation,
            Categories = categories ?? [],
            Scale = scale,
            Verbs = verbs ?? ResourceType.AllVerbs,
            ReturnDeletedObject = returnDeleted,
        };

    private static readonly string[] All_ = ["all"];

    public static IReadOnlyList<ResourceType> All { get; } =
    [
        T("", "v1", "Namespace", "namespaces", false, ["ns"], status: true,
            verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]),
        T("", "v1", "ConfigMap", "configmaps", true, ["cm"]),
        T("", "v1", "Secret", "secrets", true),
        T("", "v1", "ServiceAccount", "serviceaccounts", true, ["sa"], returnDeleted: true),
        T("", "v1", "Service", "services", true, ["svc"], status: true, categories: All_),
        T("", "v1", "Event", "events", true, ["ev"]),
        T("", "v1", "Pod", "pods", true, ["po"], status: true, categories: All_, returnDeleted: true),
        T("", "v1", "Node", "nodes", false, ["no"], status: true),
        T("apps", "v1", "Deployment", "deployments", true, ["deploy"], status: true, generation: true, categories: All_,
            scale: new ScaleSpec(".spec.replicas", ".status.replicas", null)),
        T("apps", "v1", "DaemonSet", "daemonsets", true, ["ds"], status: true, generation: true, categories: All_),
        T("apps", "v1", "StatefulSet", "statefulsets", true, ["sts"], status: true, generation: true, categories: All_,
            scale: new ScaleSpec(".spec.replicas", ".status.replicas", null)),
        T("apps", "v1", "ReplicaSet", "replicasets", true, ["rs"], status: true, generation: true, categories: All_),
        T("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, ["hpa"], status: true, generation: true, categories: All_),
        T("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, ["pdb"], status: true, generation: true),
        T("coordination.k8s.io", "v1", "Lease", "leases", true),
        T("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
        T("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
        T("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
        T("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
        T("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false, ["pc"]),
        T("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, ["pvc"], status: true),
        T("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, ["netpol"], generation: true),
        T("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, ["crd", "crds"],
            status: true, generation: true),
        T("events.k8s.io", "v1", "Event", "events", true, ["ev"]),
    ];

    public static ResourceType Namespaces => All[0];

    public static ResourceType Crds => All.Single(t => t.Plural == "customresourcedefinitions");
}
