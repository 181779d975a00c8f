namespace Fim.Core.Policy;

/// <summary>How content diffs (path entries with reportDiffs) are kept and cut; the "diffs" section of a policy.</summary>
public sealed class DiffsSpec
{
    /// <summary>Globs of files that never get a stored copy or a diff, added to <see cref="DiffSettings.DefaultNoDiff"/>.</summary>
    public List<string> Nodiff { get; set; } = [];
    /// <summary>Disk the policy's compressed copies may use, with optional unit; default 256Mi.</summary>
    public string? Quota { get; set; }
    /// <summary>Largest file that gets a copy and a diff; default 16Mi.</summary>
    public string? MaxFileSize { get; set; }
    /// <summary>Largest diff carried by an event; longer diffs are cut with a marker. Default 32Ki, at most 128Ki.</summary>
    public string? MaxDiffSize { get; set; }
}

/// <summary>The "flapping" section: a file changing more than <see cref="Changes"/> times in <see cref="Window"/> is summarised.</summary>
public sealed class FlappingSpec
{
    public int? Changes { get; set; }
    /// <summary>Duration ("10m", "1h").</summary>
    public string? Window { get; set; }
}
