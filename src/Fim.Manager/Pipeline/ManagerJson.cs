using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Fim.Contracts;

namespace Fim.Manager.Pipeline;

/// <summary>The hot path's JSON: the contracts' source-generated serializers, with pooled buffers and writers.</summary>
public static class ManagerJson
{
    public static byte[] Serialize(Alert alert) => JsonSerializer.SerializeToUtf8Bytes(alert, ContractJson.Default.Alert);

    /// <summary>Writes the alert into a buffer from the shared pool; the caller returns it once the bytes are sent.</summary>
    public static PooledJson SerializePooled(Alert alert)
    {
        var buffer = new PooledJson();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, alert, ContractJson.Default.Alert);
        writer.Reset();
        return buffer;
    }

    // One writer per thread, reset for each alert: a writer is a sizeable object and every event needs one.
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>What <see cref="FileEvent.SchemaVersion"/> reads as when the JSON has none (no version ever is 0).</summary>
    public const int MissingSchemaVersion = 0;

    // The record defaults schemaVersion to the current one (so writers need not set it); a reader must not: an event
    // without it is refused, not taken for version 1.
    private static readonly JsonTypeInfo<FileEvent> StrictEvent = (JsonTypeInfo<FileEvent>)new JsonSerializerOptions(ContractJson.Default.Options)
    {
        TypeInfoResolver = ContractJson.Default.WithAddedModifier(info =>
        {
            if (info.Type == typeof(FileEvent))
            {
                info.CreateObject = () => new FileEvent { SchemaVersion = MissingSchemaVersion };
            }
        }),
    }.GetTypeInfo(typeof(FileEvent));

    public static FileEvent? DeserializeEvent(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, StrictEvent);
}

/// <summary>A growable buffer of pooled bytes: what the alert JSON is written into, returned to the pool after the publish.</summary>
public sealed class PooledJson : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(2048);
    private int _length;

    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_length);
    }

    private void Ensure(int sizeHint)
    {
        if (_buffer.Length - _length >= Math.Max(sizeHint, 256))
        {
            return;
        }
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + sizeHint));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
        (_buffer, _length) = ([], 0);
    }
}
