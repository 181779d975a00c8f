using Fim.Testing;

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
        var operatorDll = Repository.BuiltDll("Fim.Operator", "fim-operator.dll");
        var r = await ChildProcess.RunAsync("bash", [Repository.File("scripts/install-rehearsal.sh"), "--operator", operatorDll, "--timeout", "120"],
            workingDirectory: Repo.Root, timeout: TimeSpan.FromMinutes(4));

        Assert.True(r.ExitCode == 0, r.ToString());
    }
}
