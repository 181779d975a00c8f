using Fim.Contracts;
using NATS.NKeys;

namespace Fim.Nats.Identity;

/// <summary>Signs events with the agent's own NKey (the one behind its NATS identity) over <see cref="EventContent.SigningInput"/>.</summary>
public sealed class EventSigner(KeyPair key)
{
    public string PublicKey { get; } = key.GetPublicKey();

    /// <summary>The <see cref="EventContent.SignatureHeader"/> value for <paramref name="signingInput"/>.</summary>
    public string Sign(ReadOnlySpan<byte> signingInput)
    {
        var signature = new byte[64];
        key.Sign(signingInput.ToArray(), signature);
        return NatsJwt.Base64Url(signature);
    }

    /// <summary>Whether <paramref name="header"/> is <paramref name="publicKey"/>'s signature of <paramref name="signingInput"/>.</summary>
    public static bool Verify(string publicKey, byte[] signingInput, string header)
    {
        byte[] signature;
        try
        {
            signature = NatsJwt.FromBase64Url(header);
        }
        catch (FormatException)
        {
            return false;
        }
        return NatsJwt.Verify(publicKey, signingInput, signature);
    }
}
