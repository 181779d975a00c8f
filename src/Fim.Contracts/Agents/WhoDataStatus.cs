using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// Which who-data source a policy runs on (heartbeat, per policy name): <see cref="Fanotify"/> with the eBPF process
/// table is the best, <see cref="FanotifyProc"/> names only writers still alive when the event is read, and
/// <see cref="Inotify"/> names nobody. <see cref="Reason"/> says why a better source could not be used (null when
/// the best one runs).
/// </summary>
public sealed record WhoDataStatus(
    string Source,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason)
{
    /// <summary>fanotify for the write, an eBPF process table fed at fork/exec/exit for the writer's identity.</summary>
    public const string Fanotify = "fanotify-ebpf";
    /// <summary>fanotify for the write, /proc read at once for the writer: short-lived writers are reported unknown.</summary>
    public const string FanotifyProc = "fanotify-proc";
    /// <summary>inotify: no writer at all.</summary>
    public const string Inotify = "inotify";
    /// <summary>The policy turned who-data off.</summary>
    public const string Off = "off";
}
