namespace Fim.Operator.Api;

/// <summary>Mirrors Fim.Core.Policy.DiffsSpec: how content diffs (paths with reportDiffs) are kept and cut.</summary>
[Description("How content diffs of paths with reportDiffs are kept and cut (docs/policy.md#diffs).")]
public sealed class FimDiffs
{
    [Description("Globs of files that never get a copy or a diff, added to the built-in secrets list (shadow, *.key, *.pem, kubeconfigs, .env, ...).")]
    public List<string>? Nodiff { get; set; }

    [Description("Disk the policy's compressed copies may use on each agent, e.g. 256Mi (default).")]
    public string? Quota { get; set; }

    [Description("Largest file that gets a copy and a diff, e.g. 16Mi (default).")]
    public string? MaxFileSize { get; set; }

    [Description("Largest diff an event carries; longer ones are cut with a marker. Default 32Ki, at most 128Ki.")]
    public string? MaxDiffSize { get; set; }
}

/// <summary>Mirrors Fim.Core.Policy.FlappingSpec.</summary>
[Description("A file changing more than `changes` times within `window` is reported once with a count, then summarised once per window until it settles.")]
public sealed class FimFlapping
{
    [RequiredField, Range(1), Description("Changes within the window beyond which a file is flapping.")]
    public int? Changes { get; set; }

    [RequiredField, Description("Window, e.g. 10m.")]
    public string? Window { get; set; }
}
