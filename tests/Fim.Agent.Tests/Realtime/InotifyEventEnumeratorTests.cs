using System.Buffers.Binary;
using Fim.Agent.Realtime;

namespace Fim.Agent.Tests.Realtime;

public sealed class InotifyEventEnumeratorTests
{
    [Fact]
    public void Parses_events_with_padded_names_and_without_names()
    {
        var buffer = new List<byte>();
        Append(buffer, wd: 1, mask: InotifyNative.InCreate, cookie: 0, name: [(byte)'a', 0xFF], paddedTo: 16);
        Append(buffer, wd: 2, mask: InotifyNative.InAttrib | InotifyNative.InIsDir, cookie: 0, name: [], paddedTo: 0);
        Append(buffer, wd: 1, mask: InotifyNative.InMovedTo, cookie: 77, name: "b"u8.ToArray(), paddedTo: 16);

        var events = new List<(int, uint, uint, byte[])>();
        foreach (var ev in new InotifyEventEnumerator(buffer.ToArray()))
        {
            events.Add((ev.Wd, ev.Mask, ev.Cookie, ev.Name.ToArray()));
        }

        Assert.Equal(3, events.Count);
        Assert.Equal((1, InotifyNative.InCreate, 0u), (events[0].Item1, events[0].Item2, events[0].Item3));
        Assert.Equal(new byte[] { (byte)'a', 0xFF }, events[0].Item4);
        Assert.Empty(events[1].Item4);
        Assert.Equal(77u, events[2].Item3);
        Assert.Equal("b"u8.ToArray(), events[2].Item4);
    }

    [Fact]
    public void Truncated_event_is_an_error_not_garbage()
    {
        var buffer = new List<byte>();
        Append(buffer, wd: 1, mask: InotifyNative.InCreate, cookie: 0, name: "abc"u8.ToArray(), paddedTo: 16);
        var truncated = buffer.Take(20).ToArray();

        Assert.Throws<InvalidDataException>(() =>
        {
            foreach (var _ in new InotifyEventEnumerator(truncated))
            {
            }
        });
    }

    private static void Append(List<byte> buffer, int wd, uint mask, uint cookie, byte[] name, int paddedTo)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(header, wd);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), mask);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), cookie);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), (uint)paddedTo);
        buffer.AddRange(header);
        var padded = new byte[paddedTo];
        name.CopyTo(padded, 0);
        buffer.AddRange(padded);
    }
}
