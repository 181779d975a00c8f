using System.Diagnostics;
using System.Text;

namespace Fim.Agent.Tests.Support;

public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public IEnumerable<string> StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs the real fim-agent (the built fim-agent.dll) as a child process.</summary>
public static class CliRunner
{
    public static string AgentDll => Path.Combine(AppContext.BaseDirectory, "fim-agent.dll");

    public static CliResult Run(IEnumerable<string> args, TimeSpan? timeout = null, IDictionary<string, string>? env = null, string? runAsUser = null)
    {
        var psi = StartInfo(args, env, runAsUser);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"fim-agent {string.Join(' ', args)} did not finish in time; stderr so far: {stderr}");
        }
        p.WaitForExit();
        return new CliResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IDictionary<string, string>? env = null, string? runAsUser = null)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardOutputEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        if (runAsUser is not null)
        {
            // setpriv drops to another uid without a shell; the test controls every argument.
            psi.FileName = "setpriv";
            foreach (var a in new[] { $"--reuid={runAsUser}", $"--regid={runAsUser}", "--clear-groups", "--", Dotnet, AgentDll })
            {
                psi.ArgumentList.Add(a);
            }
        }
        else
        {
            psi.FileName = Dotnet;
            psi.ArgumentList.Add(AgentDll);
        }
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        return psi;
    }

    public static string Dotnet => Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet"
        ? p
        : "dotnet";
}
