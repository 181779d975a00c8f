namespace Fim.Ctl;

/// <summary>
/// Where fimctl's bearer token comes from, first found wins: --token, FIM_TOKEN, --token-file, FIM_TOKEN_FILE, then
/// $XDG_CONFIG_HOME/fim/token (default ~/.config/fim/token) when it exists. A token file must not be readable by
/// group or others (mode 0600 or 0400), like an SSH key.
/// </summary>
public static class Credentials
{
    public static string? Resolve(string? token, string? tokenFile, Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(token))
        {
            return token.Trim();
        }
        if (environment("FIM_TOKEN") is { Length: > 0 } fromEnv)
        {
            return fromEnv.Trim();
        }
        var explicitFile = tokenFile ?? environment("FIM_TOKEN_FILE");
        var file = explicitFile ?? DefaultFile(environment);
        if (file is null || (explicitFile is null && !File.Exists(file)))
        {
            return null;
        }
        if (!File.Exists(file))
        {
            throw new UsageException($"--token-file: '{file}' does not exist");
        }
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(file);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            {
                throw new UsageException($"--token-file: '{file}' is readable or writable by group or others (mode {Convert.ToString((int)mode, 8)}); run chmod 600 on it");
            }
        }
        var text = File.ReadAllText(file).Trim();
        return text.Length > 0 ? text : throw new UsageException($"--token-file: '{file}' is empty");
    }

    public static string? DefaultFile(Func<string, string?> environment)
    {
        var config = environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg
            : environment("HOME") is { Length: > 0 } home ? Path.Combine(home, ".config")
            : null;
        return config is null ? null : Path.Combine(config, "fim", "token");
    }
}
