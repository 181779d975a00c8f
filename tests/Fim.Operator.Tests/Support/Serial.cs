namespace Fim.Operator.Tests.Support;

/// <summary>
/// Tests with a real nats-server run alone: NatsServer picks its port by probing for a free one, which a parallel
/// test's listener could take in between.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Serial
{
    public const string Name = "serial (nats-server)";
}
