using System.Security.Cryptography;

namespace Fim.Core.Baseline;

/// <summary>
/// Large-buffer reader over an unbuffered <see cref="FileStream"/> that hands out spans into its buffer,
/// so loading streams without one allocation per read. Optionally feeds every consumed byte into a running MAC.
/// </summary>
internal sealed class BufferedFileReader(FileStream file, IncrementalHash? mac = null, int bufferSize = 256 << 10)
{
    private byte[] _buffer = new byte[bufferSize];
    private int _start;
    private int _end;
    private int _hashed;
    private long _bufferOffset;

    public long Length { get; } = file.Length;

    public long Position => _bufferOffset + _start;

    public long Remaining => Length - Position;

    /// <summary>The next <paramref name="count"/> bytes, valid until the next read; false when the file ends first.</summary>
    public bool TryRead(int count, out ReadOnlySpan<byte> data)
    {
        // Checked before filling so that a forged length cannot make us allocate a huge buffer.
        if (count > Remaining || (_end - _start < count && !Fill(count)))
        {
            data = default;
            return false;
        }
        data = _buffer.AsSpan(_start, count);
        _start += count;
        return true;
    }

    public ReadOnlySpan<byte> Read(int count) =>
        TryRead(count, out var data) ? data : throw new EndOfStreamException();

    /// <summary>The MAC of everything consumed so far.</summary>
    public byte[] CurrentMac()
    {
        HashConsumed();
        return mac!.GetCurrentHash();
    }

    /// <summary>True when every byte from the current position to the end of the file is zero (consumes them).</summary>
    public bool RestIsZero()
    {
        while (true)
        {
            if (_start == _end && !Fill(1))
            {
                return true;
            }
            if (_buffer.AsSpan(_start, _end - _start).ContainsAnyExcept((byte)0))
            {
                return false;
            }
            _start = _end;
        }
    }

    private void HashConsumed()
    {
        if (mac is not null && _start > _hashed)
        {
            mac.AppendData(_buffer, _hashed, _start - _hashed);
        }
        _hashed = _start;
    }

    private bool Fill(int count)
    {
        HashConsumed();
        var pending = _end - _start;
        if (_buffer.Length < count)
        {
            var bigger = new byte[count];
            _buffer.AsSpan(_start, pending).CopyTo(bigger);
            _buffer = bigger;
        }
        else
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
        }
        _bufferOffset += _start;
        _start = 0;
        _hashed = 0;
        _end = pending;
        while (_end < count)
        {
            var n = file.Read(_buffer, _end, _buffer.Length - _end);
            if (n == 0)
            {
                return false;
            }
            _end += n;
        }
        return true;
    }
}
