using System.Buffers.Binary;

namespace Fim.Core.Baseline;

/// <summary>Bounds-checked little-endian reader over a span; every overrun is a <see cref="FormatException"/>.</summary>
internal ref struct SpanReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos;

    public readonly int Remaining => _data.Length - _pos;

    public readonly bool AtEnd => _pos == _data.Length;

    public ReadOnlySpan<byte> Bytes(int count, string field)
    {
        if (count < 0 || count > Remaining)
        {
            throw new FormatException($"'{field}' needs {count} bytes but only {Remaining} remain");
        }
        var s = _data.Slice(_pos, count);
        _pos += count;
        return s;
    }

    public byte Byte(string field) => Bytes(1, field)[0];

    public ushort UInt16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2, field));

    public uint UInt32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, field));

    public long Int64(string field) => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8, field));

    public ulong UInt64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8, field));

    /// <summary>LEB128-style unsigned varint, at most 5 bytes and at most int.MaxValue.</summary>
    public int Length(string field)
    {
        uint result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = Byte(field);
            result |= (uint)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                if (result > int.MaxValue || (shift == 28 && b > 0x07))
                {
                    break;
                }
                return (int)result;
            }
        }
        throw new FormatException($"'{field}' has an invalid length");
    }

    /// <summary>A count of items each at least <paramref name="minItemBytes"/> long, so a forged count cannot make us allocate more than the input could hold.</summary>
    public int Count(string field, int minItemBytes, bool biasedByOne = false)
    {
        var n = Length(field);
        if (biasedByOne)
        {
            n--;
        }
        if ((long)n * minItemBytes > Remaining)
        {
            throw new FormatException($"'{field}' claims {n} items but only {Remaining} bytes remain");
        }
        return n;
    }
}

/// <summary>Little-endian writer into a span sized beforehand by the matching length computation.</summary>
internal ref struct SpanWriter(Span<byte> data)
{
    private readonly Span<byte> _data = data;
    private int _pos;

    public readonly int Position => _pos;

    public void Byte(byte v) => _data[_pos++] = v;

    public void UInt16(ushort v)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_data[_pos..], v);
        _pos += 2;
    }

    public void UInt32(uint v)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_data[_pos..], v);
        _pos += 4;
    }

    public void Int64(long v)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_data[_pos..], v);
        _pos += 8;
    }

    public void UInt64(ulong v)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_data[_pos..], v);
        _pos += 8;
    }

    public void Bytes(ReadOnlySpan<byte> v)
    {
        v.CopyTo(_data[_pos..]);
        _pos += v.Length;
    }

    public void Utf8(string v) => _pos += System.Text.Encoding.UTF8.GetBytes(v, _data[_pos..]);

    public void Length(int v)
    {
        var u = (uint)v;
        while (u >= 0x80)
        {
            _data[_pos++] = (byte)(u | 0x80);
            u >>= 7;
        }
        _data[_pos++] = (byte)u;
    }

    public static int LengthSize(int v)
    {
        var u = (uint)v;
        var n = 1;
        while (u >= 0x80)
        {
            u >>= 7;
            n++;
        }
        return n;
    }
}
