using System.Diagnostics;

namespace Fim.Deploy.Tests;

/// <summary>Paths in the repository and the external tools the tests drive (real helm, promtool, systemd-analyze).</summary>
public static class Repo
{
    public static string Root { get; } = Fim.Testing.Repository.Root;

    public static string Chart => Path.Combine(Root, "charts", "fim");

    private static readonly Lazy<Dictionary<string, string>> KubeTools = new(FetchKubeTools, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The real helm v4 from scripts/fetch-kube-tools.sh (idempotent, cached in .cache/kube-tools).</summary>
    public static string Helm => KubeTools.Value["HELM"];

    /// <summary>The real kubectl v1.33 from scripts/fetch-kube-tools.sh.</summary>
    public static string Kubectl => KubeTools.Value["KUBECTL"];

    private static Dictionary<string, string> FetchKubeTools()
    {
        var r = Run("bash", [Path.Combine(Root, "scripts", "fetch-kube-tools.sh")], TimeSpan.FromMinutes(3));
        Assert.True(r.ExitCode == 0, "fetch-kube-tools.sh failed: " + r.StdErr);
        return r.StdOut.Split('\n').Where(l => l.StartsWith("HELM=", StringComparison.Ordinal) || l.StartsWith("KUBECTL=", StringComparison.Ordinal))
            .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..].Trim());
    }

    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public string All => StdOut + StdErr;
    }

    /// <summary>Runs a program with a deadline; kills it (and fails) when the deadline passes.</summary>
    public static Result Run(string file, IEnumerable<string> args, TimeSpan timeout, string? workDir = null, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Root,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    public static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, tool)));
}
