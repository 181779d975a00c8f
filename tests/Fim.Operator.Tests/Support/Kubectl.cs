using System.Diagnostics;
using Fim.Testing.KubeApi;

namespace Fim.Operator.Tests.Support;

/// <summary>The real kubectl (scripts/fetch-kube-tools.sh, .cache/kube-tools/) with its own kubeconfig, cache and HOME.</summary>
internal sealed class Kubectl : IDisposable
{
    private static readonly SemaphoreSlim FetchLock = new(1, 1);
    private readonly string _dir;
    private readonly string _kubeconfig;
    private readonly string _path;

    private Kubectl(string path, string dir, string kubeconfig)
    {
        _path = path;
        _dir = dir;
        _kubeconfig = kubeconfig;
    }

    public static async Task<Kubectl> ForAsync(KubeApiServer server)
    {
        var path = Path.Combine(Fim.Testing.Repository.Root, ".cache", "kube-tools", "kubectl", "kubectl");
        await FetchLock.WaitAsync();
        try
        {
            if (!File.Exists(path))
            {
                var (code, output) = await RunProcessAsync("bash", [Path.Combine(Fim.Testing.Repository.Root, "scripts", "fetch-kube-tools.sh")], null);
                Assert.True(code == 0 && File.Exists(path), $"scripts/fetch-kube-tools.sh failed:\n{output}");
            }
        }
        finally
        {
            FetchLock.Release();
        }

        var dir = Path.Combine(Path.GetTempPath(), "fim-kubectl-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return new Kubectl(path, dir, server.WriteKubeconfig(Path.Combine(dir, "kubeconfig")));
    }

    /// <summary>(exit code, stdout + stderr).</summary>
    public Task<(int Code, string Output)> RunAsync(params string[] args) =>
        RunProcessAsync(_path, ["--kubeconfig", _kubeconfig, "--cache-dir", Path.Combine(_dir, "cache"), .. args], _dir);

    private static async Task<(int, string)> RunProcessAsync(string file, string[] args, string? home)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Fim.Testing.Repository.Root };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        if (home is not null)
        {
            psi.Environment["HOME"] = home;
            psi.Environment.Remove("KUBECONFIG");
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish within 90s");
        }

        return (p.ExitCode, await stdout + await stderr);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
