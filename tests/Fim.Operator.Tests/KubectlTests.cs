using Fim.Testing;
using Fim.Operator.Tests.Support;
using Xunit.Abstractions;

namespace Fim.Operator.Tests;

/// <summary>Acceptance 3: the user's commands, with the real kubectl, against the double and a running operator.</summary>
public sealed class KubectlTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Kubectl_applies_the_crds_and_examples_and_shows_the_printer_columns()
    {
        await using var h = await OperatorHarness.StartAsync(registerCrds: false);
        using var kubectl = await Kubectl.ForAsync(h.Server);
        var (code, text) = await kubectl.RunAsync("apply", "-f", "crds/");
        Assert.True(code == 0, text);
        (code, text) = await kubectl.RunAsync("wait", "--for=condition=Established", "crd/fimpolicies.fim.io", "crd/fimmanagerpools.fim.io");
        Assert.True(code == 0, text);
        h.StartOperator(new MemoryPolicyStore(), new MemoryAgentDirectory(), loggers: new TestLoggers(output));

        // examples/ holds only Kubernetes objects (the agent's own files live in examples/agent/).
        (code, text) = await kubectl.RunAsync("apply", "-f", "examples/");
        output.WriteLine(text);
        Assert.True(code == 0, text);
        Assert.Contains("fimpolicy.fim.io/pci-baseline created", text);
        Assert.Contains("fimmanagerpool.fim.io/fim-managers created", text);

        await Eventually.TrueAsync(async () => (await kubectl.RunAsync("get", "fimpolicies")).Output.Contains(" True "), "the policy accepted", TimeSpan.FromSeconds(20));
        (code, text) = await kubectl.RunAsync("get", "fimpolicies");
        output.WriteLine(text);
        Assert.Equal(0, code);
        var lines = text.Trim().Split('\n');
        Assert.Matches(@"^NAME\s+ACCEPTED\s+REVISION\s+TARGETED\s+APPLIED\s+AGE$", lines[0].Trim());
        Assert.Matches(@"^pci-baseline\s+True\s+1\s+0\s+0\s+\d+s$", lines[1].Trim());

        var last = "";
        await Eventually.TrueAsync(async () => (last = (await kubectl.RunAsync("get", "fmp")).Output).Contains("False"), () => $"the pool status in: {last}", TimeSpan.FromSeconds(20));
        (code, text) = await kubectl.RunAsync("get", "fmp");
        output.WriteLine(text);
        Assert.Matches(@"^NAME\s+DESIRED\s+READY\s+PENDING\s+AVAILABLE\s+AGE$", text.Trim().Split('\n')[0].Trim());
        Assert.Matches(@"^fim-managers\s+2\s+0\s+(<none>\s+)?False\s+\d+s$", text.Trim().Split('\n')[1].Trim());

        (code, text) = await kubectl.RunAsync("get", "fim");
        Assert.True(code == 0 && text.Contains("fimpolicy.fim.io/pci-baseline") && text.Contains("fimmanagerpool.fim.io/fim-managers"), text);
    }
}
