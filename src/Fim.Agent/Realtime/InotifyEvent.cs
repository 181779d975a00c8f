using System.Buffers.Binary;

namespace Fim.Agent.Realtime;

/// <summary>One struct inotify_event as read from the fd; <see cref="Name"/> points into the read buffer.</summary>
internal readonly ref struct InotifyEvent
{
    public InotifyEvent(int wd, uint mask, uint cookie, ReadOnlySpan<byte> name)
    {
        Wd = wd;
        Mask = mask;
        Cookie = cookie;
        Name = name;
    }

    public int Wd { get; }
    public uint Mask { get; }
    public uint Cookie { get; }
    /// <summary>The entry name without the kernel's NUL padding; empty for events on the watched directory itself.</summary>
    public ReadOnlySpan<byte> Name { get; }

    public bool Has(uint flag) => (Mask & flag) != 0;
}

/// <summary>Walks the events in a buffer filled by read(2) on an inotify fd.</summary>
internal ref struct InotifyEventEnumerator
{
    private const int HeaderSize = 16;
    private ReadOnlySpan<byte> _rest;

    public InotifyEventEnumerator(ReadOnlySpan<byte> buffer)
    {
        _rest = buffer;
        Current = default;
    }

    public InotifyEvent Current { get; private set; }

    public readonly InotifyEventEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.Length < HeaderSize)
        {
            return false;
        }
        // The kernel writes host-endian ints; Linux on the platforms .NET supports is little-endian.
        var wd = BinaryPrimitives.ReadInt32LittleEndian(_rest);
        var mask = BinaryPrimitives.ReadUInt32LittleEndian(_rest[4..]);
        var cookie = BinaryPrimitives.ReadUInt32LittleEndian(_rest[8..]);
        var len = (int)BinaryPrimitives.ReadUInt32LittleEndian(_rest[12..]);
        if (len < 0 || HeaderSize + len > _rest.Length)
        {
            throw new InvalidDataException($"Truncated inotify event: header says {len} name bytes, {_rest.Length - HeaderSize} left in the buffer.");
        }
        var name = _rest.Slice(HeaderSize, len);
        var nul = name.IndexOf((byte)0);
        if (nul >= 0)
        {
            name = name[..nul];
        }
        Current = new InotifyEvent(wd, mask, cookie, name);
        _rest = _rest[(HeaderSize + len)..];
        return true;
    }
}
