namespace Fim.Nats;

/// <summary>
/// What each <see cref="NatsClientOptions"/> field is called where the user sets it (a YAML key, an appsettings key, a
/// command-line flag), so a validation message names the thing the user has to fix.
/// </summary>
public sealed record NatsOptionNames(
    string Url,
    string TlsCaFile,
    string TlsCertFile,
    string TlsKeyFile,
    string User,
    string Password,
    string PasswordFile,
    string Token,
    string TokenFile,
    string NKeySeedFile,
    string CredsFile)
{
    public string NameOf(NatsLogin login) => login switch
    {
        NatsLogin.UserPassword => User,
        NatsLogin.Token => Token,
        NatsLogin.NKey => NKeySeedFile,
        NatsLogin.Creds => CredsFile,
        _ => "none",
    };
}
