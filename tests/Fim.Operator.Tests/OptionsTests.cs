namespace Fim.Operator.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_are_valid()
    {
        Assert.Empty(new OperatorOptions().Validate());
    }

    [Fact]
    public void Every_problem_is_listed_naming_the_option()
    {
        var o = new OperatorOptions
        {
            Nats = new Fim.Nats.NatsClientOptions { Url = "http://nats:4222", User = "op", TlsCertFile = "/nonexistent/cert.pem" },
            MetricsAddress = new Runtime.BindAddress("", 70000),
            KubeClient = new Runtime.KubeClientOptions { Burst = 0 },
            Controllers = new Runtime.ControllerOptions { Workers = 0 },
            LeaderElection = new Runtime.LeaderElectionOptions { LeaseDuration = TimeSpan.FromSeconds(1), RenewDeadline = TimeSpan.FromSeconds(2) },
        };
        var problems = o.Validate();
        foreach (var expected in new[] { "--nats-url", "--nats-user", "--nats-key: required with --nats-cert", "--nats-cert: cannot read", "--metrics-bind-address", "--kube-api-qps", "--workers", "leader election" })
        {
            Assert.Contains(problems, p => p.StartsWith(expected, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Command_line_is_parsed_and_unknown_options_are_refused()
    {
        var o = OperatorProgram.Parse(["--nats-url", "tls://nats:4222", "--namespace", "fim", "--workers", "8", "--no-leader-election", "--metrics-port", "9090"]);
        Assert.Equal(("tls://nats:4222", "fim", 8, false, 9090, 9090), (o.Nats.Url, o.Namespace, o.Controllers.Workers, o.LeaderElection.Enabled, o.MetricsAddress.Port, o.HealthAddress.Port));
        var split = OperatorProgram.Parse(["--metrics-bind-address", "127.0.0.1:8443", "--health-bind-address", ":8081", "--lease-duration", "4", "--retry-period", "0.5", "--kube-api-qps", "5"]);
        Assert.Equal(new Runtime.BindAddress("127.0.0.1", 8443), split.MetricsAddress);
        Assert.True(split.HealthAddress is { AllInterfaces: true, Port: 8081 });
        Assert.Equal((TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(0.5), 5.0), (split.LeaderElection.LeaseDuration, split.LeaderElection.RetryPeriod, split.KubeClient.Qps));
        Assert.Throws<ArgumentException>(() => OperatorProgram.Parse(["--metrics-bind-address", "localhost"]));
        Assert.Throws<ArgumentException>(() => OperatorProgram.Parse(["--bogus"]));
        Assert.Throws<ArgumentException>(() => OperatorProgram.Parse(["--workers", "many"]));
        Assert.Throws<ArgumentException>(() => OperatorProgram.Parse(["--nats-url"]));
    }
}
