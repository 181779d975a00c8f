namespace Fim.Contracts;

/// <summary>
/// The NATS names agents, managers, the operator and fimctl share: subjects, streams, the managers' consumer and the KV
/// buckets. Plain strings: this project knows no NATS client.
/// </summary>
public static class Subjects
{
    public const string EventsStream = "FIM_EVENTS";
    public const string AlertsStream = "FIM_ALERTS";
    public const string DeadLetterStream = "FIM_DEADLETTER";
    /// <summary>Scan records from agents (fim.scans.&lt;agentId&gt;): the evidence that comparisons ran.</summary>
    public const string ScansStream = "FIM_SCANS";
    /// <summary>The managers' durable consumer on FIM_SCANS that stores scan records (shared by the managers that index).</summary>
    public const string ScanIndexerConsumer = "fim-scan-indexer";
    public const string ManagersConsumer = "fim-managers";
    /// <summary>The alert store indexer's durable consumer on FIM_ALERTS (shared by the managers that index).</summary>
    public const string IndexerConsumer = "fim-indexer";
    public const string PoliciesBucket = "fim-policies";
    public const string AgentsBucket = "fim-agents";
    /// <summary>Unreviewed high-level alerts per agent (<see cref="UnreviewedAlerts"/>), written by managers, read by the operator.</summary>
    public const string UnreviewedAlertsBucket = "fim-unreviewed-alerts";
    /// <summary>The managers' API tokens (hashed), key = token id. Only managers read or write it.</summary>
    public const string ApiTokensBucket = "fim-api-tokens";
    /// <summary>Enrolled agents' public keys (managers only).</summary>
    public const string IdentitiesBucket = "fim-identities";
    /// <summary>Join tokens, their secrets hashed (managers only).</summary>
    public const string JoinTokensBucket = "fim-join-tokens";
    /// <summary>Event id to content digest, for telling a redelivery from a reused id (managers only).</summary>
    public const string EventIdsBucket = "fim-event-ids";
    /// <summary>Maintenance windows, key = window id (managers only: written through the API, read by every manager's pipeline).</summary>
    public const string MaintenanceBucket = "fim-maintenance";
    /// <summary>Agents removed from the directory (who removed them, when, their last heartbeat), key = agent id (managers only).</summary>
    public const string AgentRemovalsBucket = "fim-agent-removals";

    /// <summary>The audit log's checkpoint (last sequence and hash), kept apart from the table it vouches for; managers only.</summary>
    public const string AuditBucket = "fim-audit";

    /// <summary>
    /// The browser sessions' Data Protection key ring (one entry per key), so a cookie one manager issues is read by
    /// every other and survives restarts; managers only.
    /// </summary>
    public const string ConsoleKeysBucket = "fim-console-keys";

    /// <summary>Enrollment requests (join-token bootstrap users may publish only here); managers answer in a queue group.</summary>
    public const string Enroll = "fim.enroll";

    public const string EventsPrefix = "fim.events.";
    public const string AllEvents = "fim.events.>";
    public const string AllAlerts = "fim.alerts.>";
    public const string AllDeadLetters = "fim.deadletter.>";
    public const string ScansPrefix = "fim.scans.";
    public const string AllScans = "fim.scans.>";
    public const string AllAgentCommands = "fim.agent.*.cmd";

    /// <summary>Agent ids become subject tokens and KV keys: lower-case letters, digits, '-' and '_' only.</summary>
    public static bool IsValidAgentId(string id) =>
        id.Length is > 0 and <= 128 && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

    public static string Events(string agentId) => EventsPrefix + agentId;

    /// <summary>
    /// The agent id under which the manager's ingest endpoint files what a tool posts (Falco's http_output, falcosidekick):
    /// its events travel fim.events.ingest-&lt;format&gt; like an agent's, and only managers may publish there.
    /// </summary>
    public static string IngestAgentId(string format) => IngestAgentPrefix + format;

    public const string IngestAgentPrefix = "ingest-";

    /// <summary>Whether events of this agent id come from the manager's ingest endpoint (no agent, no heartbeat, no signing key).</summary>
    public static bool IsIngestAgentId(string agentId) => agentId.StartsWith(IngestAgentPrefix, StringComparison.Ordinal);

    /// <summary>Where an agent publishes its scan records; its NATS user may publish here and to no other agent's.</summary>
    public static string Scans(string agentId) => ScansPrefix + agentId;

    public static string Alerts(int level, string agentId) => $"fim.alerts.{level}.{agentId}";

    /// <summary>Every alert of one agent, whatever its level.</summary>
    public static string AlertsOf(string agentId) => $"fim.alerts.*.{agentId}";

    public static string AgentCommand(string agentId) => $"fim.agent.{agentId}.cmd";

    /// <summary>
    /// Re-baseline requests to one agent. Apart from <see cref="AgentCommand(string)"/> so that NATS permissions can
    /// say who may accept drift: the operator's user publishes here, managers (which may send every other command) do not.
    /// </summary>
    public static string AgentRebaseline(string agentId) => $"fim.agent.{agentId}.rebaseline";

    public const string AllAgentRebaselines = "fim.agent.*.rebaseline";

    public static string DeadLetter(string reason) => $"fim.deadletter.{reason}";

    /// <summary>Nats-Msg-Id of an event: a retried publish of the same event is stored once.</summary>
    public static string EventMessageId(string agentId, string bootId, long sequence) => $"{agentId}:{bootId}:{sequence}";

    /// <summary>KV key of a policy: the FimPolicy's namespace and name.</summary>
    public static string PolicyKey(string ns, string name) => $"{ns}.{name}";

    /// <summary>The policy's name in documents and heartbeats: "namespace/name".</summary>
    public static string PolicyName(string ns, string name) => $"{ns}/{name}";

    /// <summary>The JetStream stream behind a KV bucket (what permissions name).</summary>
    public static string KvStream(string bucket) => $"KV_{bucket}";

    /// <summary>The subject a KV put of <paramref name="key"/> publishes to.</summary>
    public static string KvKey(string bucket, string key) => $"$KV.{bucket}.{key}";
}
