using Fim.Core.Model;

namespace Fim.Core.Scanning;

public sealed class ScanOptions
{
    /// <summary>Re-read every file's content even when size, mtime, ctime and inode are unchanged.</summary>
    public bool VerifyFull { get; init; }
    /// <summary>First run: record everything without building change objects for each entry.</summary>
    public bool RecordOnly { get; init; }
    public int Parallelism { get; init; } = Environment.ProcessorCount;
    public ScanThrottle? Throttle { get; init; }
    public DetectionSource Source { get; init; } = DetectionSource.Scan;
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Files at or above this size are hashed as their own work item so one thread's large file does not stall a directory.</summary>
    public long SeparateHashThreshold { get; init; } = 1024 * 1024;
    /// <summary>Test seam: called on the hashing thread after the first chunk of a file was read.</summary>
    internal Action<byte[]>? AfterFirstChunk { get; init; }
}
