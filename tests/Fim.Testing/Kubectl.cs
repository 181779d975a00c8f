namespace Fim.Testing;

/// <summary>
/// The real kubectl (<see cref="KubeTools"/>) against one API server, with its own kubeconfig, cache dir and HOME so
/// nothing leaks between tests. Relative paths in arguments resolve from the repository root.
/// </summary>
public sealed class Kubectl : IDisposable
{
    private readonly string _kubeconfig;

    private Kubectl(string directory, string kubeconfig)
    {
        Directory = directory;
        _kubeconfig = kubeconfig;
    }

    /// <summary>A kubectl whose kubeconfig <paramref name="writeKubeconfig"/> writes at the path it is given (and returns).</summary>
    public static Kubectl For(Func<string, string> writeKubeconfig)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("fim-kubectl-").FullName;
        return new Kubectl(directory, writeKubeconfig(Path.Combine(directory, "kubeconfig")));
    }

    /// <summary>This kubectl's own folder (HOME, cache, files written for it).</summary>
    public string Directory { get; }

    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    public Task<ProcessResult> RunAsync(params string[] args) =>
        ChildProcess.RunAsync(
            KubeTools.KubectlPath,
            ["--kubeconfig", _kubeconfig, "--cache-dir", Path.Combine(Directory, "cache"), .. args],
            new Dictionary<string, string> { ["HOME"] = Directory, ["KUBECONFIG"] = _kubeconfig },
            Repository.Root);

    /// <summary>`helm args...` against the same API server, with this kubectl's kubeconfig and its own helm cache, config and data.</summary>
    public Task<ProcessResult> HelmAsync(params string[] args) =>
        ChildProcess.RunAsync(
            KubeTools.HelmPath,
            ["--kubeconfig", _kubeconfig, .. args],
            new Dictionary<string, string>
            {
                ["HOME"] = Directory,
                ["KUBECONFIG"] = _kubeconfig,
                ["HELM_CACHE_HOME"] = Path.Combine(Directory, "helm", "cache"),
                ["HELM_CONFIG_HOME"] = Path.Combine(Directory, "helm", "config"),
                ["HELM_DATA_HOME"] = Path.Combine(Directory, "helm", "data"),
            },
            Repository.Root);

    /// <summary>Runs and requires exit code 0; returns stdout.</summary>
    public async Task<string> OkAsync(params string[] args) => (await RunAsync(args)).EnsureSuccess().Stdout;

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
