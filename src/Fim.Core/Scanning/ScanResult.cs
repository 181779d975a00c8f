using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Core.Scanning;

public enum ScanIssueKind
{
    /// <summary>A monitored root does not exist.</summary>
    MissingRoot,
    /// <summary>A directory could not be listed; what lies below it was not verified and is not reported deleted.</summary>
    PermissionDenied,
    /// <summary>A file could not be read; its metadata is recorded, its content is not.</summary>
    Unreadable,
    /// <summary>A file kept changing while it was hashed; recorded without a hash.</summary>
    Unstable,
    /// <summary>Any other I/O error.</summary>
    IoError,
    /// <summary>A pseudo file system (proc, sysfs, ...): a root on one is not scanned, one below a root is not descended.</summary>
    PseudoFileSystem,
}

public sealed record ScanIssue(ScanIssueKind Kind, string Path, string Message)
{
    public override string ToString() => $"{Kind}: {Path}: {Message}";
}

/// <summary>Live counters of a running scan (read them from another thread for progress).</summary>
public sealed class ScanStats
{
    internal long _files;
    internal long _directories;
    internal long _bytesHashed;
    internal long _filesHashed;
    internal long _hashesReused;

    public long Entries => Interlocked.Read(ref _files) + Interlocked.Read(ref _directories);
    public long Files => Interlocked.Read(ref _files);
    public long Directories => Interlocked.Read(ref _directories);
    public long BytesHashed => Interlocked.Read(ref _bytesHashed);
    public long FilesHashed => Interlocked.Read(ref _filesHashed);
    public long HashesReused => Interlocked.Read(ref _hashesReused);
    public TimeSpan Elapsed { get; internal set; }
}

public sealed class ScanResult
{
    public required IReadOnlyList<FileChange> Changes { get; init; }
    /// <summary>What to write to the baseline so it matches what was observed (changed, new and vanished records only).</summary>
    public required IReadOnlyList<BaselineUpdate> Updates { get; init; }
    public required IReadOnlyList<ScanIssue> Issues { get; init; }
    public required ScanStats Stats { get; init; }
    /// <summary>The roots this scan covered.</summary>
    public required IReadOnlyList<byte[]> Roots { get; init; }
}
