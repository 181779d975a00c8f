using System.Security.Cryptography;

namespace Fim.Core.Baseline;

/// <summary>
/// Large-buffer writer over an unbuffered <see cref="FileStream"/>; optionally feeds every byte it writes
/// into a running MAC, so a snapshot is sealed in the same pass that writes it.
/// </summary>
internal sealed class BufferedFileWriter(FileStream file, IncrementalHash? mac, byte[] buffer)
{
    private byte[] _buffer = buffer;
    private int _used;
    private long _flushed;

    public BufferedFileWriter(FileStream file, IncrementalHash? mac = null, int bufferSize = 256 << 10)
        : this(file, mac, new byte[bufferSize])
    {
    }

    public long Position => _flushed + _used;

    /// <summary>A span of exactly <paramref name="size"/> bytes to fill, then commit with <see cref="Advance"/>.</summary>
    public Span<byte> GetSpan(int size)
    {
        if (_buffer.Length - _used < size)
        {
            Flush();
            if (_buffer.Length < size)
            {
                _buffer = new byte[size];
            }
        }
        return _buffer.AsSpan(_used, size);
    }

    public void Advance(int count) => _used += count;

    public void Write(ReadOnlySpan<byte> data)
    {
        data.CopyTo(GetSpan(data.Length));
        Advance(data.Length);
    }

    public void Flush()
    {
        if (_used == 0)
        {
            return;
        }
        mac?.AppendData(_buffer, 0, _used);
        file.Write(_buffer, 0, _used);
        _flushed += _used;
        _used = 0;
    }

    /// <summary>The MAC of everything written so far.</summary>
    public byte[] CurrentMac()
    {
        Flush();
        return mac!.GetCurrentHash();
    }
}
