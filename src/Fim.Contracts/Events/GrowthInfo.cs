using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// The verdict on a file checked as append-only (policy check "growing"): a plain append is not reported at all, so an
/// event carries this only when the file was truncated, had earlier bytes changed, was replaced or was rotated.
/// </summary>
public sealed class GrowthInfo
{
    public const string Truncated = "truncated";
    public const string Rewritten = "rewritten";
    public const string Replaced = "replaced";
    public const string Rotated = "rotated";

    /// <summary>truncated, rewritten (bytes before the last known size changed), replaced (a new file without a rotation) or rotated.</summary>
    public string Verdict { get; set; } = "";

    /// <summary>Size the file had when last verified.</summary>
    public long PreviousSize { get; set; }

    /// <summary>Offset of the first checkpoint block found changed (rewritten).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? ChangedAt { get; set; }

    /// <summary>Where the old file went (rotated): its new path.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RotatedTo { get; set; }
}
