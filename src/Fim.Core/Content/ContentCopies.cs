using System.IO.Compression;
using System.Text;
using Fim.Contracts;
using Fim.Core.Model;
using Fim.Core.Policy;

namespace Fim.Core.Content;

/// <summary>
/// The last text content of each file under reportDiffs, compressed and sealed in the state directory, and the diffs
/// made against it. Secrets (nodiff globs), binary files and files above the size cap get neither a copy nor a diff;
/// copies count against the policy's quota. New copies are written only after the batch that reports them is committed
/// (<see cref="PendingWrite"/>): a crash in between leaves the older copy, so the next diff shows more, never less.
/// </summary>
internal sealed class ContentCopies(SealedBlobs blobs, DiffSettings settings)
{
    private long _projected;
    private bool _quotaReported;

    public SealedBlobs Blobs => blobs;

    /// <summary>Copies withheld because the quota was full, since the last notice (for one clear report per episode).</summary>
    public int QuotaRefusals { get; private set; }

    /// <summary>The diff of a modified file against its copy, and the copy to write once the batch is committed.</summary>
    public (DiffInfo Info, string? Text, PendingWrite? Write) Diff(byte[] path, FileRecord? after, string displayPath)
    {
        if (settings.IsNoDiff(path))
        {
            // A copy made before the file became a secret by policy must not stay on disk either.
            return (Omitted("nodiff"), null, blobs.Exists(path) ? PendingWrite.Remove(path) : null);
        }
        var current = ReadText(path, after, out var reason);
        if (current is null)
        {
            return (Omitted(reason!), null, blobs.Exists(path) ? PendingWrite.Remove(path) : null);
        }
        var write = Stage(path, current.Value.Compressed);
        switch (blobs.TryRead(path, out var payload))
        {
            case BlobRead.Missing:
                return (Omitted("no-copy"), null, write);
            case BlobRead.Invalid:
                return (Omitted("copy-invalid"), null, write ?? PendingWrite.Remove(path));
        }
        string before;
        try
        {
            before = Encoding.UTF8.GetString(Decompress(payload));
        }
        catch (InvalidDataException)
        {
            return (Omitted("copy-invalid"), null, write ?? PendingWrite.Remove(path));
        }
        var (text, truncated, fullSize) = UnifiedDiff.Create(before, current.Value.Text, displayPath, settings.MaxDiffSize);
        var info = truncated
            ? new DiffInfo { Status = DiffInfo.Truncated, FullSize = fullSize }
            : new DiffInfo { Status = DiffInfo.Included };
        if (write is null)
        {
            // Quota full: the stale copy would make the next diff span two changes under one event; drop it.
            info.Reason = "quota";
            write = PendingWrite.Remove(path);
        }
        return (info, text, write);
    }

    /// <summary>The first copy of a file (baseline recorded, file added), or null when it gets none.</summary>
    public PendingWrite? Record(byte[] path, FileRecord record)
    {
        if (settings.IsNoDiff(path))
        {
            return null;
        }
        var current = ReadText(path, record, out _);
        return current is null ? null : Stage(path, current.Value.Compressed);
    }

    public bool HasCopy(byte[] path) => blobs.Exists(path);

    /// <summary>A notice when the quota refused copies since the last one; null otherwise.</summary>
    public string? TakeQuotaNotice(string policy)
    {
        if (QuotaRefusals == 0)
        {
            _quotaReported = false;
            return null;
        }
        var count = QuotaRefusals;
        QuotaRefusals = 0;
        if (_quotaReported)
        {
            return null;
        }
        _quotaReported = true;
        return $"policy {policy}: the content copy quota (diffs.quota, {settings.Quota:N0} bytes) is full: {count} changed files got no copy " +
            $"and their next change will carry no diff (diffInfo.reason \"quota\" or \"no-copy\"); {blobs.Count} copies use {blobs.TotalBytes:N0} bytes";
    }

    private PendingWrite? Stage(byte[] path, byte[] compressed)
    {
        var size = SealedBlobs.StoredSize(path.Length, compressed.Length);
        var delta = size - blobs.SizeOf(path);
        if (blobs.TotalBytes + _projected + delta > settings.Quota)
        {
            QuotaRefusals++;
            return null;
        }
        _projected += delta;
        return new PendingWrite(path, compressed);
    }

    /// <summary>Applies a staged write (after the batch was committed).</summary>
    public void Apply(PendingWrite write)
    {
        if (write.Payload is null)
        {
            blobs.Remove(write.Path);
        }
        else
        {
            _projected -= SealedBlobs.StoredSize(write.Path.Length, write.Payload.Length) - blobs.SizeOf(write.Path);
            blobs.Write(write.Path, write.Payload);
        }
    }

    /// <summary>Forgets staged writes that will not be applied (the sink refused the batch).</summary>
    public void ResetProjection() => _projected = 0;

    public void Remove(byte[] path)
    {
        if (blobs.Exists(path))
        {
            blobs.Remove(path);
        }
    }

    private (string Text, byte[] Compressed)? ReadText(byte[] path, FileRecord? record, out string? reason)
    {
        reason = null;
        if (record is { Type: not FileType.Regular })
        {
            reason = "binary";
            return null;
        }
        if (record is not null && record.Size > settings.MaxFileSize)
        {
            reason = "too-large";
            return null;
        }
        using var file = MonitoredFile.Open(path, out _);
        if (file is null)
        {
            reason = "unreadable";
            return null;
        }
        var bytes = file.ReadAll(settings.MaxFileSize);
        if (bytes is null)
        {
            reason = "too-large";
            return null;
        }
        if (!IsText(bytes))
        {
            reason = "binary";
            return null;
        }
        return (Encoding.UTF8.GetString(bytes), Compress(bytes));
    }

    /// <summary>Text is valid UTF-8 without NUL bytes (what diff(1) and git also treat as text).</summary>
    internal static bool IsText(ReadOnlySpan<byte> bytes) => !bytes.Contains((byte)0) && System.Text.Unicode.Utf8.IsValid(bytes);

    private static byte[] Compress(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write(bytes);
        }
        return output.ToArray();
    }

    private static byte[] Decompress(byte[] payload)
    {
        using var input = new ZLibStream(new MemoryStream(payload), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static DiffInfo Omitted(string reason) => new() { Status = DiffInfo.Omitted, Reason = reason };
}

/// <summary>A copy or checkpoint to write (or, with no payload, remove) once the batch reporting it is committed.</summary>
internal sealed record PendingWrite(byte[] Path, byte[]? Payload)
{
    public static PendingWrite Remove(byte[] path) => new(path, null);
}
