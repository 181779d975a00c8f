using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// What became of a changed file's content diff (policy reportDiffs): carried, cut at the size cap, or left out and
/// why. Absent when the file is not under reportDiffs.
/// </summary>
public sealed class DiffInfo
{
    /// <summary><see cref="Included"/>: the event's diff is whole.</summary>
    public const string Included = "included";
    /// <summary><see cref="Truncated"/>: the diff was cut at the policy's maxDiffSize and ends with a marker line.</summary>
    public const string Truncated = "truncated";
    /// <summary><see cref="Omitted"/>: no diff; <see cref="Reason"/> says why.</summary>
    public const string Omitted = "omitted";

    /// <summary>included, truncated or omitted.</summary>
    public string Status { get; set; } = "";

    /// <summary>
    /// Why there is no diff: nodiff (a secret by the policy's nodiff globs), binary, too-large (above diffs.maxFileSize),
    /// quota (the policy's copy quota is full), no-copy (no earlier copy to compare with), copy-invalid (the stored copy
    /// failed its seal), unreadable.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reason { get; set; }

    /// <summary>Bytes of the whole diff before it was cut (set when truncated).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? FullSize { get; set; }
}
