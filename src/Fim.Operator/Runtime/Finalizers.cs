using k8s.Models;

namespace Fim.Operator.Runtime;

/// <summary>Pure finalizer list edits; the caller writes them with a resourceVersion precondition.</summary>
public static class Finalizers
{
    public static bool Has(V1ObjectMeta meta, string finalizer) => meta.Finalizers?.Contains(finalizer) == true;

    public static List<string> With(V1ObjectMeta meta, string finalizer) => [.. (meta.Finalizers ?? []).Where(f => f != finalizer), finalizer];

    public static List<string> Without(V1ObjectMeta meta, string finalizer) => [.. (meta.Finalizers ?? []).Where(f => f != finalizer)];
}
