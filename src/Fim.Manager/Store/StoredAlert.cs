using Fim.Contracts;

namespace Fim.Manager.Store;

/// <summary>
/// One alert as the store keeps it: the searchable columns taken from the alert, and the alert's wire JSON as it was
/// stored in FIM_ALERTS. <see cref="Labels"/> are the agent's labels the alert carries (<see cref="StoredLabels"/>),
/// <see cref="Package"/> and <see cref="PackageVerified"/> the package the changed path belongs to (null without one). Times are kept to the microsecond (what PostgreSQL holds), so cursors compare alike on both backends.
/// </summary>
public sealed record StoredAlert(
    long ObservedAtMicros,
    string AlertId,
    string AgentId,
    string Host,
    string Path,
    int Level,
    string RuleId,
    string Kind,
    string? Policy,
    string? ActorExe,
    string? ActorUser,
    string? Namespace,
    string? Pod,
    long StreamSequence,
    long StoredAtMicros,
    byte[] Json,
    string Labels = "",
    string? Package = null,
    bool? PackageVerified = null,
    string Source = "")
{
    public static StoredAlert From(IAlertIndexFields a, byte[] json, ulong streamSequence, DateTimeOffset storedAt)
    {
        var workload = a.Actor?.Workload ?? a.Container;
        return new StoredAlert(
            Micros.From(a.ObservedAt), a.AlertId, a.AgentId, a.Host, a.Path, a.Level, a.Rule.Id, a.Kind, a.Policy,
            a.Actor?.Executable ?? a.Actor?.Process, a.Actor?.User ?? a.Actor?.LoginUser,
            workload?.PodNamespace, workload?.PodName, (long)streamSequence, Micros.From(storedAt), json,
            StoredLabels.Encode(a.Labels), a.Package?.Name, a.Package?.Verified, a.Source);
    }
}

/// <summary>Microseconds since the Unix epoch, the store's unit of time.</summary>
public static class Micros
{
    public static long From(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static DateTimeOffset ToTime(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * 10);
}
