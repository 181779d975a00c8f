using System.Diagnostics;

namespace Fim.Deploy.Tests;

/// <summary>
/// The install rehearsal (scripts/install-rehearsal.sh): the chart rendered by the real helm, applied with the
/// real kubectl to the Kubernetes API double, the operator run against it and a real nats-server; passes when the
/// default pool's objects exist and the sample FimPolicy is Accepted with a published revision.
/// </summary>
public sealed class InstallRehearsalTests
{
    [Fact]
    public async Task The_chart_installs_and_the_operator_brings_up_the_pool_and_accepts_the_sample_policy()
    {
        var operatorDll = Fim.Testing.Repository.BuiltDll("Fim.Operator", "fim-operator.dll");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Repo.Root };
        foreach (var a in new[] { Path.Combine(Repo.Root, "scripts", "install-rehearsal.sh"), "--operator", operatorDll, "--timeout", "120" })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await p.WaitForExitAsync(deadline.Token);

        Assert.True(p.ExitCode == 0, $"install rehearsal failed ({p.ExitCode}):\n{await stdout}\n{await stderr}");
    }
}
