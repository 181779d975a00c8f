namespace Fim.Core.Model;

public enum ChangeKind : byte
{
    Added,
    Modified,
    Deleted,
    Attributes,
    TypeChanged,
    /// <summary>Not a file: the agent replaced its baseline (deleted, older, foreign, or on request); see FileEvent.Reset.</summary>
    BaselineReset,
    /// <summary>An append-only file (check "growing") was rotated: renamed away and a new one created (logrotate).</summary>
    Rotated,
    /// <summary>An append-only file was truncated, had earlier bytes changed, or was replaced; see FileEvent.Growth.</summary>
    AppendViolation,
    /// <summary>Not a file: a security tool's record (Falco, Prowler, any JSON); see FileEvent.Record.</summary>
    Security,
}

public enum DetectionSource : byte
{
    Scan,
    Realtime,
}

public static class ChangeKindNames
{
    public static string ToName(this ChangeKind kind) => kind switch
    {
        ChangeKind.Added => "added",
        ChangeKind.Modified => "modified",
        ChangeKind.Deleted => "deleted",
        ChangeKind.Attributes => "attributes",
        ChangeKind.TypeChanged => "type-changed",
        ChangeKind.BaselineReset => Fim.Contracts.FileEvent.BaselineResetKind,
        ChangeKind.Rotated => "rotated",
        ChangeKind.AppendViolation => "append-violation",
        ChangeKind.Security => Fim.Contracts.FileEvent.SecurityKind,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static bool TryParse(string name, out ChangeKind kind)
    {
        foreach (var k in Kinds)
        {
            if (string.Equals(k.ToName(), name, StringComparison.OrdinalIgnoreCase))
            {
                kind = k;
                return true;
            }
        }
        kind = default;
        return false;
    }

    // Once: Enum.GetValues makes a new array per call, and the manager parses two kinds per event.
    private static readonly ChangeKind[] Kinds = Enum.GetValues<ChangeKind>();

    public static string ToName(this DetectionSource source) => source == DetectionSource.Scan ? "scan" : "realtime";
}

/// <summary>One detected difference between the baseline and what is on disk now.</summary>
/// <param name="Changed">The attributes that differ; none for added and deleted.</param>
public sealed record FileChange(
    ChangeKind Kind,
    byte[] Path,
    FileRecord? Before,
    FileRecord? After,
    ChangedAttributes Changed,
    DetectionSource Source,
    DateTimeOffset ObservedAt,
    string? PolicyName = null)
{
    public string DisplayPath => PathBytes.ToDisplay(Path);

    /// <summary>Who made the change, when a realtime source named the writer (who-data); null otherwise.</summary>
    public Fim.Contracts.Actor? Actor { get; init; }
    /// <summary>The content diff (reportDiffs), or why there is none; null when the file is not under reportDiffs.</summary>
    public Fim.Contracts.DiffInfo? DiffInfo { get; init; }

    /// <summary>The unified diff text, when <see cref="DiffInfo"/> says included or truncated.</summary>
    public string? DiffText { get; init; }

    /// <summary>The append-only verdict (check "growing"), for rotated and append-violation changes.</summary>
    public Fim.Contracts.GrowthInfo? Growth { get; init; }

    /// <summary>Set when the file is flapping: the change that crossed the threshold, or a window's summary.</summary>
    public Fim.Contracts.FlappingInfo? Flapping { get; init; }

    /// <summary>The wire names of <see cref="Changed"/> ("size", "mode", "sha256", ...), in listing order.</summary>
    public IReadOnlyList<string> ChangedNames => Changed.ToNames();
}
