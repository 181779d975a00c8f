using System.Diagnostics;

namespace Fim.Deploy.Tests;

/// <summary>Paths in the repository and the external tools the tests drive (real helm, promtool, systemd-analyze).</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Chart => Path.Combine(Root, "charts", "fim");

    /// <summary>Third-party CRD schemas (Velero, prometheus-operator): ../shared/k8s-schemas from the repository root.</summary>
    public static string SharedSchemas => Path.GetFullPath(Path.Combine(Root, "..", "shared", "k8s-schemas"));

    private static readonly Lazy<string> HelmPath = new(FetchHelm, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The real helm v4 from scripts/fetch-kube-tools.sh (idempotent, cached in .cache/kube-tools).</summary>
    public static string Helm => HelmPath.Value;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FimOperator.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("FimOperator.sln not found above " + AppContext.BaseDirectory);
    }

    private static string FetchHelm()
    {
        var r = Run("bash", [Path.Combine(Root, "scripts", "fetch-kube-tools.sh")], TimeSpan.FromMinutes(3));
        Assert.True(r.ExitCode == 0, "fetch-kube-tools.sh failed: " + r.StdErr);
        var line = r.StdOut.Split('\n').Single(l => l.StartsWith("HELM=", StringComparison.Ordinal));
        return line["HELM=".Length..].Trim();
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
