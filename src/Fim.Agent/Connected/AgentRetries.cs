using Fim.Nats;
using Microsoft.Extensions.Logging;
using Polly;

namespace Fim.Agent.Connected;

/// <summary>
/// Every retry of the agent in one place: what is retried, how long it waits, and where it logs. A NATS outage or a
/// bucket the operator has not created yet ends in one of these; steady cadences (heartbeat, rescans) are not retries
/// and stay timers.
/// </summary>
public sealed class AgentRetries(ILoggerFactory loggers, TimeProvider time)
{
    /// <summary>Events JetStream has not acknowledged stay in the outbox and go again, soon at first.</summary>
    public static readonly RetryBackoff OutboxPublish = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));

    /// <summary>The policy bucket's watch (missing bucket, NATS away, broken watch).</summary>
    public static readonly RetryBackoff PolicyWatch = RetryBackoff.Constant(TimeSpan.FromSeconds(2));

    /// <summary>The command subscription.</summary>
    public static readonly RetryBackoff CommandSubscription = RetryBackoff.Constant(TimeSpan.FromSeconds(2));

    /// <summary>A policy whose monitoring failed (its roots unreadable, say) is restarted, ever less often.</summary>
    public static readonly RetryBackoff PolicyRestart = new(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5));

    public ResiliencePipeline Publish { get; } = RetryForever.Create("publishing the outbox to JetStream", OutboxPublish, loggers.CreateLogger<EventPublisher>(), time);

    public ResiliencePipeline WatchPolicies { get; } = RetryForever.Create($"watching KV {Fim.Contracts.Subjects.PoliciesBucket}", PolicyWatch, loggers.CreateLogger<PolicySource>(), time);

    public ResiliencePipeline AnswerCommands { get; } = RetryForever.Create("the command subscription", CommandSubscription, loggers.CreateLogger<CommandResponder>(), time);

    public ResiliencePipeline RunPolicy(string policy, long revision) =>
        RetryForever.Create($"policy {policy} revision {revision}", PolicyRestart, loggers.CreateLogger<PolicyRunner>(), time);
}
