using Fim.Agent.Connected;
using Fim.Agent.Telemetry;
using Fim.Contracts;
using Fim.Core.Baseline;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Sources;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Sources;

/// <summary>
/// Tails one policy's JSON-lines sources and sends each line as a security event through the outbox. The read
/// position of each file (its device, inode and the offset after the last line sent) is a record in a sealed store of
/// its own (state directory &lt;policy key&gt;.sources), written in the same journal batch as the events of the lines it
/// covers: after a crash both are there or neither, so a line is never sent twice nor skipped. Rotation is noticed by
/// the inode: the old file (found by its inode in the same directory, under whatever name) is read to its end first;
/// truncation by a size below the position: reported once, then read from the start. Lines that are no record are
/// counted, reported once per file and reason, and passed over.
/// </summary>
public sealed class SourceTailer : IAsyncDisposable
{
    /// <summary>How often each source's directory is listed and each file's size checked.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Lines sent in one journal batch at most (one fsync each).</summary>
    public const int MaxLinesPerBatch = 2000;

    /// <summary>An event larger than this loses decoded fields until it fits (the manager refuses events over 256 KiB).</summary>
    public const int MaxEventBytes = 192 * 1024;

    private const int ReadChunk = 64 * 1024;

    private readonly AssignedPolicy _policy;
    private readonly BaselineStore _store;
    private readonly Outbox _outbox;
    private readonly EventIdSource _ids;
    private readonly AgentIdentity _identity;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly HashSet<(string File, string Reason)> _reported = [];
    private readonly CancellationTokenSource _stop = new();
    private Task? _task;

    public SourceTailer(AssignedPolicy policy, BaselineStore store, Outbox outbox, EventIdSource ids, AgentIdentity identity, ILogger logger, TimeProvider? time = null)
    {
        _policy = policy;
        _store = store;
        _outbox = outbox;
        _ids = ids;
        _identity = identity;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The state key of a policy's sources store, beside its baseline's.</summary>
    public static string StoreKey(string policyKey) => policyKey + ".sources";

    public void Start() => _task = Task.Run(() => RunAsync(_stop.Token));

    private async Task RunAsync(CancellationToken ct)
    {
        if (_store.IsEmpty)
        {
            _store.Save(new Dictionary<string, string> { ["fim.sources"] = _policy.Name });
        }
        while (!ct.IsCancellationRequested)
        {
            var more = false;
            try
            {
                foreach (var source in _policy.Policy.Sources)
                {
                    more |= Poll(source, ct);
                }
                if (_store.JournalBytes > 8 << 20)
                {
                    // Positions are few: a snapshot keeps the journal short, and it carries the undelivered events along.
                    _store.Save(_store.Metadata);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or BaselineWriteException)
            {
                _logger.LogError("sources of policy {Policy}: {Error}; trying again", _policy.Name, e.Message);
            }
            if (!more)
            {
                try
                {
                    await Task.Delay(PollInterval, _time, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One pass over a source's files; true when a file has more to read than this pass took.</summary>
    private bool Poll(CompiledSource source, CancellationToken ct)
    {
        var directory = HostPath(source.Directory);
        if (!Directory.Exists(directory))
        {
            return false;
        }
        var more = false;
        foreach (var file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            if (ct.IsCancellationRequested || !source.Matches(Path.GetFileName(file)))
            {
                continue;
            }
            more |= Tail(source, file, ct);
        }
        return more;
    }

    private bool Tail(CompiledSource source, string file, CancellationToken ct)
    {
        if (Stat(file) is not { } now)
        {
            return false;
        }
        var key = System.Text.Encoding.UTF8.GetBytes(file);
        var known = _store.Records.TryGet(key, out var position) ? position : null;
        if (known is not null && (known.Inode != now.Inode || known.Device != now.Device))
        {
            // Rotated: finish the old file first, wherever it went, then start the new one.
            if (FindByInode(Path.GetDirectoryName(file)!, known.Device, known.Inode) is { } old)
            {
                var drained = Read(source, file, key, old, known.Device, known.Inode, known.Size, final: true, ct);
                if (drained.More)
                {
                    return true;
                }
            }
            else
            {
                Report(file, "rotated-away", $"{file} was rotated and its old file is gone before it was read to its end; lines after offset {known.Size} of it are lost");
            }
            known = null;
        }
        var offset = known?.Size ?? 0;
        if (now.Size < offset)
        {
            Report(file, "truncated", $"{file} is {now.Size} bytes, shorter than the {offset} already read: it was truncated; reading it from the start");
            AgentMetrics.SourceLines.WithLabels(_policy.Name, "truncated").Inc();
            offset = 0;
        }
        if (now.Size == offset && known is not null)
        {
            return false;
        }
        return Read(source, file, key, file, now.Device, now.Inode, offset, final: false, ct).More;
    }

    private readonly record struct ReadResult(bool More);

    /// <summary>
    /// Reads complete lines of <paramref name="readPath"/> from <paramref name="offset"/>, up to a batch, and commits their
    /// events with the new position of <paramref name="key"/>. <paramref name="final"/>: the file will not grow (rotated
    /// away), so a last line without a newline is a line.
    /// </summary>
    private ReadResult Read(CompiledSource source, string file, byte[] key, string readPath, ulong device, ulong inode, long offset, bool final, CancellationToken ct)
    {
        if (!_outbox.HasRoom)
        {
            _outbox.CountRefused();
            return new ReadResult(false);
        }
        using var stream = new FileStream(readPath, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0 });
        if (!SameFile(stream, device, inode))
        {
            return new ReadResult(false);
        }
        stream.Position = offset;
        var messages = new List<OutboxMessage>();
        var line = new MemoryStream();
        var lineStart = offset;
        var committed = offset;
        var oversized = false;
        var buffer = new byte[ReadChunk];
        var more = false;
        int read;
        while ((read = stream.Read(buffer)) > 0 && !ct.IsCancellationRequested)
        {
            var span = buffer.AsSpan(0, read);
            var at = 0;
            while (at < span.Length)
            {
                var newline = span[at..].IndexOf((byte)'\n');
                var piece = newline < 0 ? span[at..] : span.Slice(at, newline);
                if (!oversized)
                {
                    if (line.Length + piece.Length > SecurityDecoder.MaxLineBytes)
                    {
                        // Not kept in memory: the rest of the line is passed over up to its newline.
                        oversized = true;
                        line.SetLength(0);
                    }
                    else
                    {
                        line.Write(piece);
                    }
                }
                if (newline < 0)
                {
                    break;
                }
                at += newline + 1;
                var end = stream.Position - read + at;
                Handle(source, file, line, oversized, lineStart, messages);
                line.SetLength(0);
                oversized = false;
                lineStart = end;
                committed = end;
                if (messages.Count >= MaxLinesPerBatch)
                {
                    more = true;
                    break;
                }
            }
            if (more)
            {
                break;
            }
        }
        if (!more && final && (line.Length > 0 || oversized) && !ct.IsCancellationRequested)
        {
            Handle(source, file, line, oversized, lineStart, messages);
            committed = stream.Length;
        }
        if (committed == offset && messages.Count == 0 && _store.Records.TryGet(key, out var same) && same.Inode == inode && same.Device == device)
        {
            return new ReadResult(more);
        }
        var record = new FileRecord { Path = key, Type = FileType.Regular, Inode = inode, Device = device, Size = committed };
        _store.Append([BaselineUpdate.Upsert(record)], messages);
        if (messages.Count > 0)
        {
            _outbox.Accepted();
        }
        return new ReadResult(more);
    }

    private void Handle(CompiledSource source, string file, MemoryStream line, bool oversized, long lineStart, List<OutboxMessage> messages)
    {
        if (oversized)
        {
            Count(file, SecurityDecoder.TooLong, $"the line at offset {lineStart} of {file} is longer than {SecurityDecoder.MaxLineBytes} bytes and was passed over");
            return;
        }
        var decoded = SecurityDecoder.Decode(source.Format, line.GetBuffer().AsSpan(0, (int)line.Length));
        if (decoded.Skipped)
        {
            return;
        }
        if (decoded.Record is not { } record)
        {
            Count(file, decoded.Problem!.Reason, $"the line at offset {lineStart} of {file} is no {source.Format} record: {decoded.Problem.Detail}");
            return;
        }
        var e = SecurityEvents.Create(record, _identity.AgentId, _identity.Hostname, _policy.Name, file[(_identity.HostRoot?.Length ?? 0)..], _time.GetUtcNow());
        e.EventId = _ids.Next();
        var payload = ContractJson.ToUtf8(e);
        while (payload.Length > MaxEventBytes && record.Fields.Count > 0)
        {
            foreach (var name in record.Fields.Keys.Skip(record.Fields.Count / 2).ToList())
            {
                record.Fields.Remove(name);
            }
            record.FieldsTruncated = true;
            payload = ContractJson.ToUtf8(e);
        }
        messages.Add(new OutboxMessage(e.EventId, AgentTracing.NewTraceParent(), payload));
        AgentMetrics.SourceLines.WithLabels(_policy.Name, "sent").Inc();
    }

    private void Count(string file, string reason, string detail)
    {
        AgentMetrics.SourceLines.WithLabels(_policy.Name, reason).Inc();
        Report(file, reason, detail);
    }

    /// <summary>Logged once per file and reason while the agent runs; the metric counts every occurrence.</summary>
    private void Report(string file, string reason, string detail)
    {
        bool first;
        lock (_reported)
        {
            first = _reported.Add((file, reason));
        }
        if (first)
        {
            _logger.LogWarning("source {File} of policy {Policy}: {Detail} (counted in fim_agent_source_lines_total{{reason=\"{Reason}\"}}; reported once)",
                file, _policy.Name, detail, reason);
        }
    }

    private string HostPath(string path) => (_identity.HostRoot ?? "") + path;

    private static (ulong Device, ulong Inode, long Size)? Stat(string path) =>
        Fim.Core.Native.Posix.StatPath(System.Text.Encoding.UTF8.GetBytes(path), followSymlinks: true, out var s) == 0 && s.Type == FileType.Regular
            ? (s.Device, s.Inode, s.Size) : null;

    /// <summary>The open file is still the one the position is about (not replaced between the stat and the open).</summary>
    private static bool SameFile(FileStream stream, ulong device, ulong inode) =>
        Fim.Core.Native.Posix.FStat((int)stream.SafeFileHandle.DangerousGetHandle(), out var s) == 0 && s.Device == device && s.Inode == inode;

    private static string? FindByInode(string directory, ulong device, ulong inode)
    {
        foreach (var candidate in Directory.EnumerateFiles(directory))
        {
            if (Stat(candidate) is { } s && s.Device == device && s.Inode == inode)
            {
                return candidate;
            }
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_task is not null)
        {
            await _task;
        }
        _stop.Dispose();
    }
}
