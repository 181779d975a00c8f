using Fim.Core.Model;
using Fim.Core.Native;
using Fim.Core.Policy;

namespace Fim.Core.Scanning;

/// <summary>What <see cref="PathInspector.Inspect"/> found.</summary>
public enum InspectionOutcome
{
    /// <summary>No rule of the policy covers the path (outside every root, excluded, too deep, not included).</summary>
    OutOfScope,
    Absent,
    Present,
    /// <summary>The path could not be examined (see the error); nothing was read.</summary>
    Failed,
}

public sealed record Inspection(InspectionOutcome Outcome, FileRecord? Record = null, string? Error = null);

/// <summary>
/// The one path a live query asks about, as it is now: stat and hashes with the policy's own rule (its hash kinds and
/// its largest file to hash), through the same record builder a scan uses, without a baseline. Only paths inside the
/// policy's scope are examined, and only through real directories below the rule's root: a symlinked directory or a
/// "." or ".." component could otherwise lead outside the monitored tree.
/// </summary>
public sealed class PathInspector
{
    private readonly ScanScope _scope;
    private readonly RecordBuilder _builder;

    public PathInspector(CompiledPolicy policy)
    {
        var names = new NameCache();
        var compare = new RecordComparison(policy, new ScanOptions { Parallelism = 1 }, names);
        _scope = new ScanScope(policy);
        _builder = new RecordBuilder(compare.Options, compare, names);
    }

    /// <summary>Whether <paramref name="path"/> is a clean absolute path ("/a/b": no empty, "." or ".." component, no NUL).</summary>
    public static bool IsCanonical(ReadOnlySpan<byte> path)
    {
        if (path.Length == 0 || path[0] != (byte)'/' || path.Contains((byte)0))
        {
            return false;
        }
        if (path.Length == 1)
        {
            return true;
        }
        foreach (var range in path[1..].Split((byte)'/'))
        {
            var part = path[1..][range];
            if (part.Length == 0 || part.SequenceEqual("."u8) || part.SequenceEqual(".."u8))
            {
                return false;
            }
        }
        return true;
    }

    public Inspection Inspect(byte[] path)
    {
        if (!IsCanonical(path) || _scope.RuleInScope(path) is not { } rule)
        {
            return new Inspection(InspectionOutcome.OutOfScope);
        }
        // Every directory between the root and the path must be a directory, not a link to somewhere else.
        for (var end = rule.Root.Length + 1; end < path.Length; end++)
        {
            if (path[end] != (byte)'/')
            {
                continue;
            }
            var err = Posix.StatPath(path.AsSpan(0, end), false, out var dir);
            if (err is Libc.ENOENT or Libc.ENOTDIR)
            {
                return new Inspection(InspectionOutcome.Absent);
            }
            if (err != 0)
            {
                return new Inspection(InspectionOutcome.Failed, Error: Libc.Describe(err));
            }
            if (dir.Type != FileType.Directory)
            {
                return dir.Type == FileType.Symlink
                    ? new Inspection(InspectionOutcome.OutOfScope)
                    : new Inspection(InspectionOutcome.Absent);
            }
        }
        var statErr = Posix.StatPath(path, rule.FollowSymlinks, out var stat);
        if (statErr is Libc.ENOENT or Libc.ENOTDIR)
        {
            return new Inspection(InspectionOutcome.Absent);
        }
        if (statErr != 0)
        {
            return new Inspection(InspectionOutcome.Failed, Error: Libc.Describe(statErr));
        }
        if (!rule.IsIncluded(path, stat.Type))
        {
            return new Inspection(InspectionOutcome.OutOfScope);
        }
        using var hasher = _builder.CreateHasher();
        var record = _builder.Build(hasher, new ScanStats(), Libc.AT_FDCWD, Posix.Z(path), path, stat, rule, null, out _);
        return new Inspection(InspectionOutcome.Present, record);
    }
}
