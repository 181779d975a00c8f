namespace Fim.Core.Model;

/// <summary>Content hash algorithms a policy may ask for. The value is the index into <see cref="FileRecord.Hashes"/>.</summary>
public enum HashAlgorithmKind : byte
{
    Sha256 = 0,
    Sha512 = 1,
    Sha1 = 2,
    Md5 = 3,
    Xxh128 = 4,
}

public static class HashAlgorithmNames
{
    public const int Count = 5;

    public static string ToName(this HashAlgorithmKind kind) => kind switch
    {
        HashAlgorithmKind.Sha256 => "sha256",
        HashAlgorithmKind.Sha512 => "sha512",
        HashAlgorithmKind.Sha1 => "sha1",
        HashAlgorithmKind.Md5 => "md5",
        HashAlgorithmKind.Xxh128 => "xxh128",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static bool TryParse(string name, out HashAlgorithmKind kind)
    {
        for (var i = 0; i < Count; i++)
        {
            if (string.Equals(((HashAlgorithmKind)i).ToName(), name, StringComparison.OrdinalIgnoreCase))
            {
                kind = (HashAlgorithmKind)i;
                return true;
            }
        }
        kind = default;
        return false;
    }
}
