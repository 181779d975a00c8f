namespace Fim.Core.Policy;

/// <summary>Validates the policy's "diffs" and "flapping" sections.</summary>
internal static class ContentPolicyCompiler
{
    public static readonly TimeSpan MinFlappingWindow = TimeSpan.FromSeconds(1);

    public static DiffSettings Diffs(DiffsSpec spec, ProblemList problems)
    {
        var globs = new List<PathGlob>();
        foreach (var pattern in DiffSettings.DefaultNoDiff)
        {
            globs.Add(PathGlob.Compile(pattern));
        }
        var nodiff = spec.Nodiff ?? [];
        for (var i = 0; i < nodiff.Count; i++)
        {
            try
            {
                globs.Add(PathGlob.Compile(nodiff[i]));
            }
            catch (FormatException e)
            {
                problems.Add(FieldPaths.Item("diffs.nodiff", i), e.Message);
            }
        }
        var maxDiff = Size(spec.MaxDiffSize, "diffs.maxDiffSize", DiffSettings.DefaultMaxDiffSize, 1024, problems);
        if (maxDiff > DiffSettings.MaxMaxDiffSize)
        {
            problems.Add("diffs.maxDiffSize", $"must be at most {DiffSettings.MaxMaxDiffSize / 1024}Ki (a diff travels inside an event, which the manager caps at 256 KiB), got '{spec.MaxDiffSize}'");
        }
        return new DiffSettings
        {
            NoDiff = globs,
            Quota = Size(spec.Quota, "diffs.quota", DiffSettings.DefaultQuota, 0, problems),
            MaxFileSize = Size(spec.MaxFileSize, "diffs.maxFileSize", DiffSettings.DefaultMaxFileSize, 1, problems),
            MaxDiffSize = maxDiff,
        };
    }

    public static FlappingSettings? Flapping(FlappingSpec? spec, ProblemList problems)
    {
        if (spec is null)
        {
            return null;
        }
        var ok = true;
        if (spec.Changes is not { } changes || changes < 1)
        {
            problems.Add("flapping.changes", spec.Changes is null ? "is required: the number of changes in the window beyond which a file is flapping" : $"must be 1 or more, got {spec.Changes}");
            ok = false;
            changes = 0;
        }
        TimeSpan window = default;
        if (spec.Window is null)
        {
            problems.Add("flapping.window", "is required, e.g. '10m'");
            ok = false;
        }
        else if (!DurationText.TryParse(spec.Window, out window, out var error))
        {
            problems.Add("flapping.window", error);
            ok = false;
        }
        else if (window < MinFlappingWindow)
        {
            problems.Add("flapping.window", $"must be at least 1s, got '{spec.Window}'");
            ok = false;
        }
        return ok ? new FlappingSettings(changes, window) : null;
    }

    private static long Size(string? text, string field, long fallback, long minimum, ProblemList problems)
    {
        if (text is null)
        {
            return fallback;
        }
        if (!ByteSize.TryParse(text, out var size, out var error))
        {
            problems.Add(field, error);
            return fallback;
        }
        if (size < minimum)
        {
            problems.Add(field, $"must be at least {minimum} bytes, got '{text}'");
        }
        return size;
    }
}
