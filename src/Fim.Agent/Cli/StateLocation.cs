namespace Fim.Agent.Cli;

/// <summary>Where the baseline and its HMAC key live. The key is kept outside the state directory on purpose.</summary>
public sealed record StateLocation(string StateDir, string KeyFile)
{
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
        return new StateLocation(stateDir, keyFile);
    }
}
