using NATS.NKeys;

namespace Fim.Nats;

/// <summary>
/// Reads an NKey seed file as <c>nk -gen user</c> writes it (the seed alone, or with the public key on another line, or
/// in a creds-style block). The client itself wants the public key and the seed side by side, which a seed file does
/// not hold, so the key pair is derived here.
/// </summary>
public static class NKeySeedFile
{
    private const int SeedLength = 58;

    /// <summary>The key pair of the first line that looks like a seed; <see cref="NatsLoginException"/> naming the file otherwise.</summary>
    public static KeyPair Read(string path)
    {
        foreach (var line in File.ReadLines(path))
        {
            var text = line.Trim();
            if (text.Length == SeedLength && text[0] == 'S')
            {
                try
                {
                    return KeyPair.FromSeed(text);
                }
                catch (Exception e) when (e is NKeysException or FormatException or ArgumentException or IndexOutOfRangeException)
                {
                    throw new NatsLoginException($"{path}: not a valid NKey seed ({e.Message})", e);
                }
            }
        }
        throw new NatsLoginException($"{path}: no NKey seed in it (a line of {SeedLength} characters starting with S)");
    }
}
