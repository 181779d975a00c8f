using System.Text.RegularExpressions;
using Fim.Core.Model;

namespace Fim.Core.Policy;

/// <summary>
/// Validates a <see cref="PolicySpec"/> and turns it into the <see cref="CompiledPolicy"/> the scanner and watcher use.
/// Reports every problem at once, each with its field path and, for a policy read from a file, its line.
/// </summary>
public static partial class PolicyCompiler
{
    public const string CommandLinePolicyName = "command-line";
    public static readonly TimeSpan MinRescanInterval = TimeSpan.FromSeconds(10);
    public const int MaxSeverity = 15;
    public const int MaxNice = 19;
    public const int MaxParallelism = 64;

    public static CompiledPolicy LoadAndCompile(string file) => Compile(PolicyLoader.LoadFile(file), file);

    /// <summary>The default policy over paths given on the command line; relative paths are taken from the working directory.</summary>
    public static CompiledPolicy ForPaths(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var spec = new PolicySpec { Name = CommandLinePolicyName };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            var absolute = string.IsNullOrEmpty(path) || path.Contains('\0') ? path : PathBytes.Normalize(path);
            if (seen.Add(absolute ?? ""))
            {
                spec.Paths.Add(new PathRule { Path = absolute ?? "" });
            }
        }
        return Compile(spec, "command line");
    }

    public static CompiledPolicy Compile(PolicySpec spec, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var positions = PolicySourceMap.Of(spec);
        var problems = new ProblemList(positions);
        var schedule = spec.Schedule ?? new ScheduleSpec();
        var throttle = spec.Throttle ?? new ThrottleSpec();

        CheckName(spec.Name, problems);
        var selector = Selector(spec.Selector, problems);
        var sources = Sources.Compile(spec.Sources ?? [], problems);
        var rules = Rules(spec.Paths ?? [], sources.Count > 0, problems);
        var pods = PodSelectionCompiler.Compile(spec.Pods, problems);
        var rescan = Interval(schedule.RescanInterval, "schedule.rescanInterval", problems) ?? TimeSpan.FromSeconds(PolicySpec.DefaultRescanSeconds);
        var fullVerify = Interval(schedule.FullVerifyInterval, "schedule.fullVerifyInterval", problems);
        var verifyFull = VerifyFull(schedule.Verify, problems);
        AtLeast(spec.EventsPerSecond, 0, "eventsPerSecond", problems);
        Within(spec.Severity, 0, MaxSeverity, "severity", problems);
        var tags = Tags(spec.Tags ?? [], problems);
        var bytesPerSecond = BytesPerSecond(throttle.BytesPerSecond, problems);
        AtLeast(throttle.FilesPerSecond, 1, "throttle.filesPerSecond", problems);
        Within(throttle.Nice, 0, MaxNice, "throttle.nice", problems);
        var ioClass = IoClass(throttle.IoClass, problems);
        Within(throttle.Parallelism, 1, MaxParallelism, "throttle.parallelism", problems);

        var diffs = ContentPolicyCompiler.Diffs(spec.Diffs ?? new DiffsSpec(), problems);
        var flapping = ContentPolicyCompiler.Flapping(spec.Flapping, problems);

        problems.ThrowIfAny(sourceName ?? positions?.SourceName);
        return new CompiledPolicy
        {
            Name = spec.Name,
            Selector = selector,
            Rules = rules,
            Sources = sources,
            RescanInterval = rescan,
            FullVerifyInterval = fullVerify,
            VerifyFull = verifyFull,
            EventsPerSecond = spec.EventsPerSecond,
            Severity = spec.Severity,
            Tags = tags,
            BytesPerSecond = bytesPerSecond,
            FilesPerSecond = throttle.FilesPerSecond,
            Nice = throttle.Nice,
            IoClass = ioClass,
            Parallelism = throttle.Parallelism ?? Environment.ProcessorCount,
            WhoData = spec.WhoData?.Enabled ?? true,
            WhoDataCommandLine = spec.WhoData?.CommandLine ?? true,
            Diffs = diffs,
            Flapping = flapping,
            Pods = pods,
        };
    }

    private static void CheckName(string? name, ProblemList problems)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            problems.Add("name", "must not be empty");
        }
        else if (name.Any(char.IsControl))
        {
            problems.Add("name", "must not contain control characters");
        }
    }

    private static Dictionary<string, string>? Selector(Dictionary<string, string>? selector, ProblemList problems)
    {
        if (selector is null)
        {
            return null;
        }
        foreach (var key in selector.Keys.Where(k => k.Trim().Length == 0))
        {
            problems.Add(FieldPaths.Entry("selector", key), "label names must not be empty");
        }
        return new Dictionary<string, string>(selector, StringComparer.Ordinal);
    }

    private static List<CompiledPathRule> Rules(List<PathRule> paths, bool hasSources, ProblemList problems)
    {
        if (paths.Count == 0 && !hasSources)
        {
            problems.Add("paths", "at least one path to monitor is required (or a source to tail)");
        }
        var rules = new List<CompiledPathRule>(paths.Count);
        var firstIndexOfRoot = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < paths.Count; i++)
        {
            var field = FieldPaths.Item("paths", i);
            if (paths[i] is not { } path)
            {
                problems.Add(field, "must be a mapping with at least 'path'");
                continue;
            }
            if (PathRuleCompiler.Compile(path, field, problems) is not { } rule)
            {
                continue;
            }
            if (firstIndexOfRoot.TryGetValue(rule.RootDisplay, out var first))
            {
                problems.Add(FieldPaths.Member(field, "path"), $"'{rule.RootDisplay}' is already monitored by paths[{first}]; merge the two entries");
                continue;
            }
            firstIndexOfRoot.Add(rule.RootDisplay, i);
            rules.Add(rule);
        }
        // Longest root first, so CompiledPolicy.RuleFor's first match is the most specific rule.
        rules.Sort((a, b) => a.Root.Length != b.Root.Length ? b.Root.Length.CompareTo(a.Root.Length) : PathBytes.Compare(a.Root, b.Root));
        return rules;
    }

    private static TimeSpan? Interval(string? text, string field, ProblemList problems)
    {
        if (text is null)
        {
            return null;
        }
        if (!DurationText.TryParse(text, out var interval, out var error))
        {
            problems.Add(field, error);
            return null;
        }
        if (interval < MinRescanInterval)
        {
            problems.Add(field, $"must be at least {MinRescanInterval.TotalSeconds:0}s, got '{text}'");
        }
        return interval;
    }

    private static bool VerifyFull(string? verify, ProblemList problems)
    {
        switch (verify)
        {
            case null or "incremental":
                return false;
            case "full":
                return true;
            default:
                problems.Add("schedule.verify", $"must be 'incremental' or 'full', got '{verify}'");
                return false;
        }
    }

    private static List<string> Tags(List<string> tags, ProblemList problems)
    {
        var valid = new List<string>(tags.Count);
        for (var i = 0; i < tags.Count; i++)
        {
            var tag = tags[i];
            if (string.IsNullOrEmpty(tag))
            {
                problems.Add(FieldPaths.Item("tags", i), "must not be empty");
            }
            else if (!TagPattern().IsMatch(tag))
            {
                problems.Add(FieldPaths.Item("tags", i), $"'{tag}' is not a tag: use 'framework:control' (e.g. 'pci_dss:11.5') or one word of letters, digits, '_', '.', ':', '-'");
            }
            else if (!valid.Contains(tag))
            {
                valid.Add(tag);
            }
        }
        return valid;
    }

    private static long? BytesPerSecond(string? text, ProblemList problems)
    {
        const string field = "throttle.bytesPerSecond";
        if (text is null)
        {
            return null;
        }
        if (!ByteSize.TryParse(text, out var rate, out var error))
        {
            problems.Add(field, error);
            return null;
        }
        if (rate <= 0)
        {
            problems.Add(field, $"must be more than 0, got '{text}'; leave it out for no limit");
        }
        return rate;
    }

    private static IoPriorityClass IoClass(string? text, ProblemList problems)
    {
        switch (text)
        {
            case null or "normal":
                return IoPriorityClass.Normal;
            case "best-effort":
                return IoPriorityClass.BestEffort;
            case "idle":
                return IoPriorityClass.Idle;
            default:
                problems.Add("throttle.ioClass", $"must be 'idle', 'best-effort' or 'normal', got '{text}'");
                return IoPriorityClass.Normal;
        }
    }

    private static void AtLeast(int? value, int minimum, string field, ProblemList problems)
    {
        if (value < minimum)
        {
            problems.Add(field, $"must be {minimum} or more, got {value}");
        }
    }

    private static void Within(int? value, int minimum, int maximum, string field, ProblemList problems)
    {
        if (value < minimum || value > maximum)
        {
            problems.Add(field, $"must be from {minimum} to {maximum}, got {value}");
        }
    }

    // Admits both documented forms: compliance tags ("pci_dss:11.5", framework:control) and free words ("web-tier").
    [GeneratedRegex(@"^[A-Za-z0-9_.:\-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();
}
