using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC.Rfc8032;
using Org.BouncyCastle.Security;

namespace NATS.NKeys;

/// <summary>What an NKey identifies; the first letter of its public key (U for users, A for accounts...).</summary>
public enum PrefixByte : byte
{
    Account = 0,
    Cluster = 2 << 3,
    Operator = 14 << 3,
    Server = 13 << 3,
    User = 20 << 3,
}

/// <summary>
/// A NATS NKey: an Ed25519 key pair written as base32 text with a type prefix and a CRC-16 (the format nats-server
/// reads in <c>authorization { users = [ { nkey: U... } ] }</c> and <c>nk</c>/<c>nsc</c> write). The NATS client signs
/// the server's nonce with it when it connects with a seed, an NKey file or a creds file.
/// </summary>
public sealed class KeyPair : IDisposable
{
    private const byte SeedPrefix = 18 << 3; // 'S'
    private const int KeyLength = 32;

    private readonly Ed25519PrivateKeyParameters _private;

    private KeyPair(PrefixByte type, Ed25519PrivateKeyParameters key)
    {
        Type = type;
        _private = key;
    }

    public PrefixByte Type { get; }

    /// <summary>
    /// Reads a seed file as <c>nk -gen user</c> writes it (the seed alone, or with the public key on another line, or in
    /// a creds-style block): the first line that is a seed.
    /// </summary>
    public static KeyPair FromSeedFile(string path)
    {
        foreach (var line in File.ReadLines(path))
        {
            var text = line.Trim();
            if (text.Length == 58 && text[0] == 'S')
            {
                return FromSeed(text);
            }
        }
        throw new NKeysException($"{path}: no NKey seed in it (a line of 58 characters starting with S)");
    }

    public static KeyPair CreatePair(PrefixByte type)
    {
        var seed = new byte[KeyLength];
        new SecureRandom().NextBytes(seed);
        return new KeyPair(type, new Ed25519PrivateKeyParameters(seed));
    }

    /// <summary>Reads a seed such as <c>SUAB...</c>; throws <see cref="NKeysException"/> naming what is wrong.</summary>
    public static KeyPair FromSeed(ReadOnlySpan<char> seed)
    {
        var raw = Decode(seed.Trim(), "seed");
        if (raw.Length != 2 + KeyLength || (raw[0] & 0xF8) != SeedPrefix)
        {
            throw new NKeysException("not an NKey seed (a seed starts with S and is 58 characters)");
        }
        var type = (PrefixByte)(((raw[0] & 0x07) << 5) | ((raw[1] & 0xF8) >> 3));
        if (!Enum.IsDefined(type))
        {
            throw new NKeysException($"unknown NKey type in the seed ({(byte)type})");
        }
        return new KeyPair(type, new Ed25519PrivateKeyParameters(raw, 2));
    }

    public string GetPublicKey()
    {
        var raw = new byte[1 + KeyLength];
        raw[0] = (byte)Type;
        _private.GeneratePublicKey().Encode(raw, 1);
        return Encode(raw);
    }

    public string GetSeed()
    {
        var raw = new byte[2 + KeyLength];
        raw[0] = (byte)(SeedPrefix | ((byte)Type >> 5));
        raw[1] = (byte)(((byte)Type & 0x1F) << 3);
        _private.Encode(raw, 2);
        return Encode(raw);
    }

    /// <summary>Writes the 64-byte Ed25519 signature of <paramref name="input"/> into <paramref name="signature"/>.</summary>
    /// <remarks>The signature the NATS client calls (memory, not spans).</remarks>
    public void Sign(ReadOnlyMemory<byte> input, Memory<byte> signature) => Sign(input.Span, signature.Span);

    /// <summary>Writes the 64-byte Ed25519 signature of <paramref name="input"/> into <paramref name="signature"/>.</summary>
    public void Sign(ReadOnlySpan<byte> input, Span<byte> signature)
    {
        var output = new byte[Ed25519PrivateKeyParameters.SignatureSize];
        _private.Sign(Ed25519.Algorithm.Ed25519, null, input.ToArray(), 0, input.Length, output, 0);
        output.CopyTo(signature);
    }

    /// <summary>The NATS client disposes key pairs after signing; the key lives in managed memory, so there is nothing to free.</summary>
    public void Dispose()
    {
    }

    /// <summary>Whether <paramref name="signature"/> is this public key's signature of <paramref name="input"/>.</summary>
    public static bool Verify(string publicKey, ReadOnlySpan<byte> input, ReadOnlySpan<byte> signature)
    {
        var raw = Decode(publicKey, "public key");
        if (raw.Length != 1 + KeyLength || signature.Length != Ed25519PrivateKeyParameters.SignatureSize)
        {
            return false;
        }
        return new Ed25519PublicKeyParameters(raw, 1).Verify(Ed25519.Algorithm.Ed25519, null,
            input.ToArray(), 0, input.Length, signature.ToArray(), 0);
    }

    private static string Encode(ReadOnlySpan<byte> raw)
    {
        Span<byte> withCrc = stackalloc byte[raw.Length + 2];
        raw.CopyTo(withCrc);
        var crc = Crc16.Compute(raw);
        withCrc[^2] = (byte)crc;
        withCrc[^1] = (byte)(crc >> 8);
        return Base32.Encode(withCrc);
    }

    private static byte[] Decode(ReadOnlySpan<char> text, string what)
    {
        var data = Base32.Decode(text) ?? throw new NKeysException($"the {what} is not base32 (A-Z, 2-7)");
        if (data.Length < 3)
        {
            throw new NKeysException($"the {what} is too short");
        }
        var crc = (ushort)(data[^2] | (data[^1] << 8));
        if (crc != Crc16.Compute(data.AsSpan(0, data.Length - 2)))
        {
            throw new NKeysException($"the {what} fails its checksum (mistyped or truncated)");
        }
        return data[..^2];
    }
}

public sealed class NKeysException(string message) : Exception(message);
