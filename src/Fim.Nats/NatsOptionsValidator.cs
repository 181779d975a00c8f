namespace Fim.Nats;

/// <summary>Checks <see cref="NatsClientOptions"/>; every problem names the setting (as the user wrote it) and what is wrong.</summary>
public static class NatsOptionsValidator
{
    private static readonly string[] UrlSchemes = ["nats", "tls", "ws", "wss"];

    public static IReadOnlyList<string> Validate(NatsClientOptions o, NatsOptionNames names)
    {
        var errors = new List<string>();
        ValidateUrls(o.Url, names.Url, errors);
        ValidateLogin(o, names, errors);
        RequireFile(o.PasswordFile, names.PasswordFile, errors);
        RequireFile(o.TokenFile, names.TokenFile, errors);
        RequireFile(o.NKeySeedFile, names.NKeySeedFile, errors);
        RequireFile(o.CredsFile, names.CredsFile, errors);
        RequireFile(o.TlsCaFile, names.TlsCaFile, errors);
        RequireFile(o.TlsCertFile, names.TlsCertFile, errors);
        RequireFile(o.TlsKeyFile, names.TlsKeyFile, errors);
        if (string.IsNullOrEmpty(o.TlsCertFile) != string.IsNullOrEmpty(o.TlsKeyFile))
        {
            errors.Add(string.IsNullOrEmpty(o.TlsCertFile)
                ? $"{names.TlsCertFile}: required with {names.TlsKeyFile}"
                : $"{names.TlsKeyFile}: required with {names.TlsCertFile}");
        }
        return errors;
    }

    private static void ValidateUrls(string? url, string name, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            errors.Add($"{name}: required (e.g. nats://nats.fim-system:4222; several comma-separated)");
            return;
        }
        foreach (var one in url.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(one, UriKind.Absolute, out var uri) || !UrlSchemes.Contains(uri.Scheme) || uri.Host.Length == 0)
            {
                errors.Add($"{name}: '{SecretMasking.MaskUrl(one)}' is not a server URL (nats://host:port, tls://host:port, ws(s)://...)");
            }
            else if (uri.UserInfo.Length > 0)
            {
                // The client logs its URLs; credentials belong in the login settings.
                errors.Add($"{name}: must not hold credentials; use the user/password, token, NKey or creds settings");
            }
        }
    }

    private static void ValidateLogin(NatsClientOptions o, NatsOptionNames names, List<string> errors)
    {
        var hasUser = !string.IsNullOrEmpty(o.User);
        var hasPassword = !string.IsNullOrEmpty(o.Password) || !string.IsNullOrEmpty(o.PasswordFile);
        if (hasUser && !hasPassword)
        {
            errors.Add($"{names.User}: needs a password ({names.Password} or {names.PasswordFile})");
        }
        if (!hasUser && hasPassword)
        {
            errors.Add($"{names.User}: required with {names.Password}");
        }
        if (!string.IsNullOrEmpty(o.Password) && !string.IsNullOrEmpty(o.PasswordFile))
        {
            errors.Add($"{names.PasswordFile}: give either {names.Password} or {names.PasswordFile}, not both");
        }
        if (!string.IsNullOrEmpty(o.Token) && !string.IsNullOrEmpty(o.TokenFile))
        {
            errors.Add($"{names.TokenFile}: give either {names.Token} or {names.TokenFile}, not both");
        }
        var logins = o.Logins;
        if (logins.Count > 1)
        {
            var all = string.Join(" and ", logins.Select(names.NameOf));
            errors.Add($"{names.NameOf(logins[1])}: give one way to log in ({names.User}/password, {names.Token}, {names.NKeySeedFile} or {names.CredsFile}), not {all}");
        }
    }

    private static void RequireFile(string? path, string name, List<string> errors)
    {
        if (string.IsNullOrEmpty(path))
        {
            return;
        }
        try
        {
            using var _ = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{name}: cannot read {path}: {e.Message}");
        }
    }
}
