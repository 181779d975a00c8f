namespace Fim.Core.Events;

/// <summary>The names DESIGN.md fixes between agents, managers and the operator. Plain strings: Core knows no NATS.</summary>
public static class Subjects
{
    public const string EventsStream = "FIM_EVENTS";
    public const string AlertsStream = "FIM_ALERTS";
    public const string DeadLetterStream = "FIM_DEADLETTER";
    public const string ManagersConsumer = "fim-managers";
    public const string PoliciesBucket = "fim-policies";
    public const string AgentsBucket = "fim-agents";

    public const string AllEvents = "fim.events.>";
    public const string AllAlerts = "fim.alerts.>";
    public const string AllDeadLetters = "fim.deadletter.>";

    /// <summary>Agent ids become subject tokens and KV keys: lower-case letters, digits, '-' and '_' only.</summary>
    public static bool IsValidAgentId(string id) =>
        id.Length is > 0 and <= 128 && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

    public static string Events(string agentId) => $"fim.events.{agentId}";

    public static string Alerts(int level, string agentId) => $"fim.alerts.{level}.{agentId}";

    public static string AgentCommand(string agentId) => $"fim.agent.{agentId}.cmd";

    public static string DeadLetter(string reason) => $"fim.deadletter.{reason}";

    /// <summary>Nats-Msg-Id of an event: a retried publish of the same event is stored once.</summary>
    public static string EventMessageId(string agentId, string bootId, long sequence) => $"{agentId}:{bootId}:{sequence}";

    /// <summary>KV key of a policy: the FimPolicy's namespace and name.</summary>
    public static string PolicyKey(string ns, string name) => $"{ns}.{name}";
}
