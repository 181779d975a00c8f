using Fim.Core.Baseline;

namespace Fim.Agent.Cli;

/// <summary>
/// Where the baseline and its HMAC key live. The key is kept outside the state directory on purpose, and so is the
/// anchor that remembers which baseline exists (beside the key unless FIM_ANCHOR_FILE says otherwise).
/// </summary>
public sealed record StateLocation(string StateDir, string KeyFile)
{
    private readonly string? _anchorFile;

    public string AnchorFile
    {
        get => _anchorFile ?? BaselineAnchor.PathFor(KeyFile);
        init => _anchorFile = value;
    }

    public static StateLocation Resolve(string? stateDir, string? keyFile)
    {
        var isRoot = Environment.UserName == "root";
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        stateDir ??= Environment.GetEnvironmentVariable("FIM_STATE_DIR")
            ?? (isRoot ? "/var/lib/fim-agent" : Path.Combine(home, ".local", "state", "fim-agent"));
        keyFile ??= Environment.GetEnvironmentVariable("FIM_KEY_FILE")
            ?? (isRoot ? "/etc/fim-agent/baseline.key" : Path.Combine(home, ".config", "fim-agent", "baseline.key"));
        stateDir = Path.GetFullPath(stateDir);
        keyFile = Path.GetFullPath(keyFile);
        if (Path.GetDirectoryName(keyFile) is { } keyDir &&
            (keyDir == stateDir || keyDir.StartsWith(stateDir + "/", StringComparison.Ordinal)))
        {
            throw new AgentException(ExitCodes.InvalidArgument,
                $"the key file {keyFile} is inside the state directory {stateDir}; keep it elsewhere so whoever can edit the baseline cannot re-seal it");
        }
        var anchorFile = Path.GetFullPath(Environment.GetEnvironmentVariable("FIM_ANCHOR_FILE") ?? BaselineAnchor.PathFor(keyFile));
        if (anchorFile.StartsWith(stateDir + "/", StringComparison.Ordinal))
        {
            throw new AgentException(ExitCodes.InvalidArgument,
                $"the baseline anchor {anchorFile} (FIM_ANCHOR_FILE) is inside the state directory {stateDir}; keep it outside, or deleting the state directory deletes it too");
        }
        return new StateLocation(stateDir, keyFile) { AnchorFile = anchorFile };
    }
}
