namespace Fim.Core.Policy;

/// <summary>Compiled <see cref="DiffsSpec"/>.</summary>
public sealed class DiffSettings
{
    public const long DefaultQuota = 256L << 20;
    public const long DefaultMaxFileSize = 16L << 20;
    public const long DefaultMaxDiffSize = 32L << 10;
    /// <summary>Diffs travel inside events, which the manager caps at 256 KiB.</summary>
    public const long MaxMaxDiffSize = 128L << 10;

    /// <summary>Secrets whose content must never be copied to the state directory or into an event.</summary>
    public static readonly IReadOnlyList<string> DefaultNoDiff =
    [
        "shadow", "shadow-", "gshadow", "gshadow-", "*.key", "*.pem", "*.p12", "*.pfx", "*.jks", "*.keystore",
        "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "ssh_host_*_key", "*.kubeconfig", "kubeconfig", ".kube/config",
        "/etc/kubernetes/*.conf", ".env", ".env.*", "*.env", ".netrc", ".pgpass", ".git-credentials", ".aws/credentials",
        "*secret*", "*token*", "*password*",
    ];

    public static DiffSettings Default { get; } = new() { NoDiff = [.. DefaultNoDiff.Select(PathGlob.Compile)] };

    public IReadOnlyList<PathGlob> NoDiff { get; init; } = [];
    public long Quota { get; init; } = DefaultQuota;
    public long MaxFileSize { get; init; } = DefaultMaxFileSize;
    public long MaxDiffSize { get; init; } = DefaultMaxDiffSize;

    public bool IsNoDiff(ReadOnlySpan<byte> path)
    {
        foreach (var glob in NoDiff)
        {
            if (glob.IsMatch(path))
            {
                return true;
            }
        }
        return false;
    }

    internal DiffSettings UnderRoot(string prefix) => new()
    {
        NoDiff = [.. NoDiff.Select(g => g.Pattern.StartsWith('/') ? PathGlob.Compile(prefix + g.Pattern) : g)],
        Quota = Quota,
        MaxFileSize = MaxFileSize,
        MaxDiffSize = MaxDiffSize,
    };
}

/// <summary>Compiled <see cref="FlappingSpec"/>: more than <see cref="Changes"/> changes of one file within <see cref="Window"/>.</summary>
public sealed record FlappingSettings(int Changes, TimeSpan Window);
