using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;

namespace Fim.Nats;

/// <summary>
/// The one place <see cref="NatsClientOptions"/> become client options. Every FIM connection reconnects forever and
/// keeps retrying its first connect (<see cref="NatsOpts.RetryOnInitialConnect"/>): a process may start before NATS,
/// or while it restarts. A login the server refuses twice in a row stops the retries (the client's own rule), and
/// <see cref="ConnectAsync"/> then says which login was refused.
/// </summary>
public static class NatsConnectionFactory
{
    public static NatsOpts CreateOpts(NatsClientOptions o, ILoggerFactory? loggers = null)
    {
        var opts = NatsOpts.Default with
        {
            Url = o.Url,
            Name = o.Name,
            AuthOpts = Auth(o),
            TlsOpts = o.HasTls
                ? NatsTlsOpts.Default with { Mode = TlsMode.Require, CaFile = o.TlsCaFile, CertFile = o.TlsCertFile, KeyFile = o.TlsKeyFile }
                : NatsTlsOpts.Default,
            LoggerFactory = loggers ?? NullLoggerFactory.Instance,
            ConnectTimeout = o.ConnectTimeout,
            RequestTimeout = o.RequestTimeout,
            CommandTimeout = o.RequestTimeout,
            RetryOnInitialConnect = true,
            MaxReconnectRetry = -1,
            ReconnectWaitMin = o.ReconnectWaitMin,
            ReconnectWaitMax = o.ReconnectWaitMax,
            ReconnectJitter = TimeSpan.FromMilliseconds(Math.Min(250, o.ReconnectWaitMin.TotalMilliseconds)),
            IgnoreAuthErrorAbort = !o.StopOnRefusedLogin,
        };
        return o.InboxPrefix is { Length: > 0 } prefix ? opts with { InboxPrefix = prefix } : opts;
    }

    /// <summary>
    /// Opens a connection, waiting (the client retrying) until the server answers. A refused login or an unreadable
    /// secret ends in <see cref="NatsLoginException"/> naming the login method, never the secret.
    /// </summary>
    /// <param name="tune">A process's own tuning of the client options (buffer sizes, channel modes), applied last.</param>
    public static async Task<NatsConnection> ConnectAsync(NatsClientOptions o, ILoggerFactory? loggers, CancellationToken cancellationToken, Func<NatsOpts, NatsOpts>? tune = null)
    {
        var opts = CreateOpts(o, loggers);
        var connection = new NatsConnection(tune is null ? opts : tune(opts));
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (NatsException e)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new NatsLoginException($"NATS at {SecretMasking.MaskUrl(o.Url)} refused the login ({DescribeForError(o)}): {Describe(e)}", e);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The client wraps the useful part ("authorization violation", a TLS failure) in a generic message.</summary>
    public static string Describe(Exception e)
    {
        var inner = e.GetBaseException();
        return inner == e ? e.Message : $"{e.Message}: {inner.Message}";
    }

    /// <summary>The login, plus the public key of an NKey seed, so it can be compared with the server's configuration.</summary>
    private static string DescribeForError(NatsClientOptions o) =>
        o.Logins.FirstOrDefault() == NatsLogin.NKey ? $"{o.DescribeLogin()}, public key {NKeySeedFile.Read(o.NKeySeedFile!).GetPublicKey()}" : o.DescribeLogin();

    private static NatsAuthOpts Auth(NatsClientOptions o)
    {
        var auth = NatsAuthOpts.Default;
        switch (o.Logins.FirstOrDefault())
        {
            case NatsLogin.UserPassword:
                return auth with { Username = o.User, Password = o.Password ?? ReadSecret(o.PasswordFile!, "password") };
            case NatsLogin.Token:
                return auth with { Token = o.Token ?? ReadSecret(o.TokenFile!, "token") };
            case NatsLogin.NKey:
                var key = NKeySeedFile.Read(o.NKeySeedFile!);
                return auth with { NKey = key.GetPublicKey(), Seed = key.GetSeed() };
            case NatsLogin.Creds:
                return auth with { CredsFile = o.CredsFile };
            default:
                return auth;
        }
    }

    /// <summary>A secret from a mounted file, without the trailing newline editors and <c>echo</c> add.</summary>
    private static string ReadSecret(string path, string what)
    {
        try
        {
            return File.ReadAllText(path).TrimEnd('\r', '\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NatsLoginException($"cannot read the NATS {what} file {path}: {e.Message}", e);
        }
    }
}
