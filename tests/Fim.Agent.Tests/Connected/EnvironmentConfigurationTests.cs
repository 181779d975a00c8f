using Fim.Agent.Cli;
using Fim.Agent.Connected;
using Fim.Agent.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Fim.Agent.Tests.Connected;

/// <summary>
/// Configuration from environment variables, which a test can only set on its own process: it runs alone, or an agent
/// that another test starts meanwhile inherits them (one did: it looked for NATS at nats://env:4222 and timed out).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "process environment";
}

[Collection(ProcessEnvironmentCollection.Name)]
public sealed class EnvironmentConfigurationTests : IDisposable
{
    private readonly TempTree _t = new("environment");

    public void Dispose() => _t.Dispose();

    [Fact]
    public void Environment_variables_override_the_YAML_file()
    {
        var file = Path.Combine(_t.Root, "agent.yaml");
        File.WriteAllText(file, """
            agentId: from-file
            labels: { role: web }
            nats:
              url: nats://file:4222
              tls: { caFile: /ca.pem }
            outboxMaxEvents: 10
            """);
        Environment.SetEnvironmentVariable("FIM_NATS__URL", "nats://env:4222");
        Environment.SetEnvironmentVariable("FIM_OUTBOXMAXEVENTS", "20");
        try
        {
            var options = new AgentOptions();
            RunCommand.BuildConfiguration(file, null, "127.0.0.1:9999").Bind(options);
            Assert.Equal("nats://env:4222", options.Nats.Url);
            Assert.Equal("/ca.pem", options.Nats.Tls.CaFile);
            Assert.Equal(20, options.OutboxMaxEvents);
            Assert.Equal("from-file", options.AgentId);
            Assert.Equal("web", options.Labels["role"]);
            Assert.Equal("127.0.0.1:9999", options.MetricsListen);
        }
        finally
        {
            Environment.SetEnvironmentVariable("FIM_NATS__URL", null);
            Environment.SetEnvironmentVariable("FIM_OUTBOXMAXEVENTS", null);
        }
    }
}
