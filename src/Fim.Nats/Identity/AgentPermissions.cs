using Fim.Contracts;

namespace Fim.Nats.Identity;

/// <summary>
/// The one definition of what an agent may do on NATS: publish its events, its scan records, its heartbeat and the JetStream API calls
/// for reading fim-policies; subscribe its own inboxes and command subject; answer one request at a time. Both
/// `fim-agent nats-authz` (static server configuration) and enrollment (user JWTs) render it.
/// docs/agent-connected.md explains every permission.
/// </summary>
public static class AgentPermissions
{
    public static IReadOnlyList<string> Publish(string agentId) =>
    [
        Subjects.Events(agentId),
        Subjects.Scans(agentId),
        Subjects.KvKey(Subjects.AgentsBucket, agentId),
        "$JS.API.INFO",
        $"$JS.API.STREAM.INFO.{Subjects.KvStream(Subjects.AgentsBucket)}",
        $"$JS.API.STREAM.INFO.{Subjects.KvStream(Subjects.PoliciesBucket)}",
        $"$JS.API.CONSUMER.CREATE.{Subjects.KvStream(Subjects.PoliciesBucket)}",
        $"$JS.API.CONSUMER.CREATE.{Subjects.KvStream(Subjects.PoliciesBucket)}.>",
        $"$JS.API.CONSUMER.DELETE.{Subjects.KvStream(Subjects.PoliciesBucket)}.>",
        $"$JS.API.DIRECT.GET.{Subjects.KvStream(Subjects.PoliciesBucket)}.>",
        $"$JS.FC.{Subjects.KvStream(Subjects.PoliciesBucket)}.>",
    ];

    public static IReadOnlyList<string> Subscribe(string agentId) =>
    [
        $"_INBOX.{agentId}.>",
        Subjects.AgentCommand(agentId),
        // Re-baseline requests; only the operator's user may publish them (NatsAuthorization.OperatorPublish).
        Subjects.AgentRebaseline(agentId),
    ];

    /// <summary>Replies it may send: one per request received, within a minute.</summary>
    public const int MaxResponses = 1;

    public static readonly TimeSpan ResponseWindow = TimeSpan.FromMinutes(1);

    /// <summary>What a join token's bootstrap user may do: send enrollment requests and hear the answers, nothing else.</summary>
    public static IReadOnlyList<string> BootstrapPublish => [Subjects.Enroll];

    public static IReadOnlyList<string> BootstrapSubscribe => ["_INBOX.enroll.>"];

    public const string BootstrapInboxPrefix = "_INBOX.enroll";
}
