using System.Diagnostics;

namespace Fim.Testing.KubeApi.Tests.Support;

/// <summary>
/// Runs the real kubectl (v1.33, from scripts/fetch-kube-tools.sh into .cache/kube-tools/, fetched on first use)
/// against a server, with its own kubeconfig, cache dir and HOME so nothing leaks between tests.
/// </summary>
internal sealed class Kubectl : IDisposable
{
    private static readonly SemaphoreSlim FetchLock = new(1, 1);
    private static string? _path;
    private readonly string _dir;
    private readonly string _kubeconfig;

    private Kubectl(string dir, string kubeconfig)
    {
        _dir = dir;
        _kubeconfig = kubeconfig;
    }

    public string Directory => _dir;

    public static async Task<Kubectl> ForAsync(KubeApiServer server)
    {
        await EnsureBinaryAsync();
        var dir = Path.Combine(Path.GetTempPath(), "kubectl-test-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(dir);
        var kubeconfig = server.WriteKubeconfig(Path.Combine(dir, "kubeconfig"));
        return new Kubectl(dir, kubeconfig);
    }

    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    public async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(_path!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--kubeconfig");
        psi.ArgumentList.Add(_kubeconfig);
        psi.ArgumentList.Add("--cache-dir");
        psi.ArgumentList.Add(Path.Combine(_dir, "cache"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = _dir;
        psi.Environment.Remove("KUBECONFIG");
        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"kubectl {string.Join(' ', args)} did not finish within 60s");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs and asserts exit code 0; returns stdout.</summary>
    public async Task<string> OkAsync(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);
        Assert.True(code == 0, $"kubectl {string.Join(' ', args)} exited {code}\nstdout: {stdout}\nstderr: {stderr}");
        return stdout;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task EnsureBinaryAsync()
    {
        await FetchLock.WaitAsync();
        try
        {
            if (_path is not null)
            {
                return;
            }

            var root = RepoRoot();
            var candidate = Path.Combine(root, ".cache", "kube-tools", "kubectl", "kubectl");
            if (!File.Exists(candidate))
            {
                var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                psi.ArgumentList.Add(Path.Combine(root, "scripts", "fetch-kube-tools.sh"));
                using var p = Process.Start(psi)!;
                var output = await p.StandardOutput.ReadToEndAsync() + await p.StandardError.ReadToEndAsync();
                await p.WaitForExitAsync();
                Assert.True(p.ExitCode == 0 && File.Exists(candidate), $"scripts/fetch-kube-tools.sh failed:\n{output}");
            }

            _path = candidate;
        }
        finally
        {
            FetchLock.Release();
        }
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "scripts", "fetch-kube-tools.sh")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root (with scripts/fetch-kube-tools.sh) not found");
    }
}
