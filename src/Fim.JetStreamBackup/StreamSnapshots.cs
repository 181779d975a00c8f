using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using NATS.Client.Core;

namespace Fim.JetStreamBackup;

/// <summary>What a snapshot holds besides the data: the stream's config and state as the server reported them.</summary>
public sealed record SnapshotMetadata(string Stream, JsonObject Config, JsonObject State, long Bytes, int Chunks);

/// <summary>
/// JetStream stream snapshot and restore over the raw JetStream API:
/// <list type="bullet">
/// <item>Snapshot: request <c>$JS.API.STREAM.SNAPSHOT.&lt;stream&gt;</c> with a deliver subject; the server sends the
/// snapshot (a compressed tar) in chunks, each with a reply subject the client answers for flow control, and ends
/// with an empty message carrying status 204 (a 408 status means the server gave up waiting for acks).</item>
/// <item>Restore: request <c>$JS.API.STREAM.RESTORE.&lt;stream&gt;</c> with the config and state; the server answers
/// with a deliver subject; each chunk is sent as a request (the server acks it) and an empty request ends the
/// restore and returns the stream info. The stream must not exist.</item>
/// </list>
/// </summary>
public static class StreamSnapshots
{
    public const int DefaultChunkSize = 128 * 1024;

    public static async Task<SnapshotMetadata> SnapshotAsync(INatsConnection nats, string stream, Stream output, TimeSpan timeout, CancellationToken ct, int chunkSize = DefaultChunkSize)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var token = deadline.Token;

        var deliver = nats.NewInbox();
        var subOpts = new NatsSubOpts { ChannelOpts = new NatsSubChannelOpts { Capacity = 1024, FullMode = BoundedChannelFullMode.Wait } };
        await using var sub = await nats.SubscribeCoreAsync<byte[]>(deliver, opts: subOpts, cancellationToken: token);

        var request = new JsonObject { ["deliver_subject"] = deliver, ["no_consumers"] = false, ["chunk_size"] = chunkSize, ["jsck"] = false };
        var response = await ApiAsync(nats, $"$JS.API.STREAM.SNAPSHOT.{stream}", request, token);
        var config = response["config"] as JsonObject ?? throw new InvalidDataException($"snapshot of {stream}: the response has no config");
        var state = response["state"] as JsonObject ?? throw new InvalidDataException($"snapshot of {stream}: the response has no state");

        long bytes = 0;
        var chunks = 0;
        await foreach (var msg in sub.Msgs.ReadAllAsync(token))
        {
            var data = msg.Data ?? [];
            if (data.Length == 0)
            {
                // End of the snapshot: status 204 is success; anything else (408 No Flow Response) an error.
                var code = msg.Headers?.Code ?? 0;
                if (code is not (0 or 204))
                {
                    throw new IOException($"snapshot of {stream} aborted by the server: status {code} {msg.Headers?.MessageText}");
                }
                await output.FlushAsync(token);
                return new SnapshotMetadata(stream, (JsonObject)config.DeepClone(), (JsonObject)state.DeepClone(), bytes, chunks);
            }
            await output.WriteAsync(data, token);
            bytes += data.Length;
            chunks++;
            if (!string.IsNullOrEmpty(msg.ReplyTo))
            {
                await nats.PublishAsync(msg.ReplyTo, cancellationToken: token);
            }
        }
        throw new IOException($"snapshot of {stream}: the delivery ended before the end marker");
    }

    /// <summary>Restores a snapshot into a stream that must not exist yet; returns the restored stream's state.</summary>
    public static async Task<JsonObject> RestoreAsync(INatsConnection nats, SnapshotMetadata meta, Stream input, TimeSpan timeout, CancellationToken ct, int chunkSize = DefaultChunkSize)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var token = deadline.Token;

        var request = new JsonObject { ["config"] = meta.Config.DeepClone(), ["state"] = meta.State.DeepClone() };
        var response = await ApiAsync(nats, $"$JS.API.STREAM.RESTORE.{meta.Stream}", request, token);
        var deliver = response["deliver_subject"]?.GetValue<string>()
            ?? throw new InvalidDataException($"restore of {meta.Stream}: the response has no deliver_subject");

        var buffer = new byte[chunkSize];
        var replyOpts = new NatsSubOpts { Timeout = TimeSpan.FromSeconds(30) };
        while (true)
        {
            var n = await ReadFullAsync(input, buffer, token);
            if (n == 0)
            {
                break;
            }
            var ack = await nats.RequestAsync<byte[], byte[]>(deliver, buffer[..n], replyOpts: replyOpts, cancellationToken: token);
            ThrowIfError(ack.Data, $"restore of {meta.Stream}: chunk");
        }

        // The empty request ends the restore; the answer is the stream info (or an error).
        var done = await nats.RequestAsync<byte[], byte[]>(deliver, [], replyOpts: new NatsSubOpts { Timeout = timeout }, cancellationToken: token);
        var result = Parse(done.Data, $"restore of {meta.Stream}");
        return result["state"] as JsonObject ?? throw new InvalidDataException($"restore of {meta.Stream}: the final response has no state");
    }

    /// <summary>Writes &lt;stream&gt;.snapshot (the data) and &lt;stream&gt;.json (config, state) into <paramref name="directory"/>.</summary>
    public static async Task<SnapshotMetadata> SnapshotToDirectoryAsync(INatsConnection nats, string stream, string directory, TimeSpan timeout, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        var dataPath = Path.Combine(directory, stream + ".snapshot");
        var partial = dataPath + ".partial";
        SnapshotMetadata meta;
        await using (var file = File.Create(partial))
        {
            meta = await SnapshotAsync(nats, stream, file, timeout, ct);
        }
        File.Move(partial, dataPath, overwrite: true);
        var json = new JsonObject
        {
            ["stream"] = meta.Stream,
            ["config"] = meta.Config.DeepClone(),
            ["state"] = meta.State.DeepClone(),
            ["bytes"] = meta.Bytes,
            ["chunks"] = meta.Chunks,
            ["takenAt"] = DateTimeOffset.UtcNow.ToString("O"),
        };
        await File.WriteAllTextAsync(Path.Combine(directory, stream + ".json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), ct);
        return meta;
    }

    public static async Task<JsonObject> RestoreFromDirectoryAsync(INatsConnection nats, string stream, string directory, TimeSpan timeout, CancellationToken ct)
    {
        var metaPath = Path.Combine(directory, stream + ".json");
        var json = JsonNode.Parse(await File.ReadAllTextAsync(metaPath, ct)) as JsonObject
            ?? throw new InvalidDataException($"{metaPath}: not a JSON object");
        var meta = new SnapshotMetadata(
            stream,
            json["config"] as JsonObject ?? throw new InvalidDataException($"{metaPath}: no config"),
            json["state"] as JsonObject ?? throw new InvalidDataException($"{metaPath}: no state"),
            json["bytes"]?.GetValue<long>() ?? 0,
            json["chunks"]?.GetValue<int>() ?? 0);
        await using var file = File.OpenRead(Path.Combine(directory, stream + ".snapshot"));
        return await RestoreAsync(nats, meta, file, timeout, ct);
    }

    /// <summary>Whether the server holds <paramref name="stream"/> (STREAM.INFO answers 404 for one it does not).</summary>
    public static async Task<bool> ExistsAsync(INatsConnection nats, string stream, CancellationToken ct)
    {
        var reply = await nats.RequestAsync<byte[], byte[]>($"$JS.API.STREAM.INFO.{stream}", [], replyOpts: new NatsSubOpts { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken: ct);
        var node = reply.Data is { Length: > 0 } data ? JsonNode.Parse(data) as JsonObject : null;
        if (node?["error"] is JsonObject { } error && error["code"]?.GetValue<int>() == 404)
        {
            return false;
        }
        Parse(reply.Data, $"stream info of {stream}");
        return true;
    }

    private static async Task<JsonObject> ApiAsync(INatsConnection nats, string subject, JsonObject request, CancellationToken ct)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(request.ToJsonString());
        var reply = await nats.RequestAsync<byte[], byte[]>(subject, body, replyOpts: new NatsSubOpts { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken: ct);
        return Parse(reply.Data, subject);
    }

    private static JsonObject Parse(byte[]? data, string what)
    {
        if (data is null || data.Length == 0)
        {
            throw new InvalidDataException($"{what}: empty response");
        }
        var node = JsonNode.Parse(data) as JsonObject ?? throw new InvalidDataException($"{what}: response is not a JSON object");
        if (node["error"] is JsonObject error)
        {
            throw new IOException($"{what}: {error["description"]?.GetValue<string>()} (code {error["code"]}, err_code {error["err_code"]})");
        }
        return node;
    }

    private static void ThrowIfError(byte[]? data, string what)
    {
        if (data is { Length: > 0 })
        {
            Parse(data, what);
        }
    }

    private static async Task<int> ReadFullAsync(Stream input, byte[] buffer, CancellationToken ct)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await input.ReadAsync(buffer.AsMemory(total), ct);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }
}
