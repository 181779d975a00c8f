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
        using var kubectl = Kubectl.For(h.Server.WriteKubeconfig);
        await kubectl.OkAsync("apply", "-f", "crds/");
        await kubectl.OkAsync("wait", "--for=condition=Established", "crd/fimpolicies.fim.io", "crd/fimmanagerpools.fim.io");
        h.StartOperator(new MemoryPolicyStore(), new MemoryAgentDirectory(), loggers: new TestLoggers(output));

        // examples/ holds only Kubernetes objects (the agent's own files live in examples/agent/).
        var text = await kubectl.OkAsync("apply", "-f", "examples/");
        output.WriteLine(text);
        Assert.Contains("fimpolicy.fim.io/pci-baseline created", text);
        Assert.Contains("fimmanagerpool.fim.io/fim-managers created", text);

        await Eventually.TrueAsync(async () => (text = await kubectl.OkAsync("get", "fimpolicies")).Contains(" True "), () => $"the policy accepted in: {text}");
        output.WriteLine(text);
        var lines = text.Trim().Split('\n');
        Assert.Matches(@"^NAME\s+ACCEPTED\s+REVISION\s+TARGETED\s+APPLIED\s+AGE$", lines[0].Trim());
        Assert.Matches(@"^pci-baseline\s+True\s+1\s+0\s+0\s+\d+s$", lines[1].Trim());

        await Eventually.TrueAsync(async () => (text = await kubectl.OkAsync("get", "fmp")).Contains("False"), () => $"the pool status in: {text}");
        output.WriteLine(text);
        Assert.Matches(@"^NAME\s+DESIRED\s+READY\s+PENDING\s+AVAILABLE\s+AGE$", text.Trim().Split('\n')[0].Trim());
        Assert.Matches(@"^fim-managers\s+2\s+0\s+(<none>\s+)?False\s+\d+s$", text.Trim().Split('\n')[1].Trim());

        text = await kubectl.OkAsync("get", "fim");
        Assert.True(text.Contains("fimpolicy.fim.io/pci-baseline") && text.Contains("fimmanagerpool.fim.io/fim-managers"), text);
    }
}
