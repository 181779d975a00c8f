using System.Text;
using System.Text.Json.Nodes;
using Fim.Manager.Options;
using Fim.Nats;
using Microsoft.Extensions.Options;
using NATS.Client.Core;

namespace Fim.Manager.Enrollment;

/// <summary>
/// Pushes FIM's account JWT, re-signed with the current list of revoked keys, to the NATS servers through a
/// system-account user ($SYS.REQ.ACCOUNT.&lt;account&gt;.CLAIMS.UPDATE). The server then refuses those keys and closes
/// their connections at once: no restart, no configuration change.
/// </summary>
public sealed class AccountPublisher(
    EnrollmentKeys keys,
    IdentityDirectory identities,
    JoinTokens tokens,
    IOptions<EnrollmentOptions> options,
    IOptions<NatsOptions> nats,
    TimeProvider time,
    ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly ILogger _log = loggers.CreateLogger<AccountPublisher>();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private NatsConnection? _system;

    /// <summary>Builds the revocation list from the buckets and pushes the account JWT; throws when the server does not accept it.</summary>
    public async Task PushAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var revocations = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            foreach (var identity in await identities.RevokedAsync(ct))
            {
                revocations[identity.PublicKey] = identity.RevokedAt!.Value;
            }
            foreach (var token in await tokens.ListAsync(ct))
            {
                if (token.RevokedAt is { } at && token.BootstrapPublicKey.Length > 0)
                {
                    revocations[token.BootstrapPublicKey] = at;
                }
            }
            var issuer = keys.Issuer;
            var jwt = issuer.AccountJwt(revocations, time.GetUtcNow());
            _system ??= await NatsConnectionFactory.ConnectAsync(
                nats.Value.ToClientOptions() with
                {
                    Name = "fim-manager-account-pusher",
                    User = null,
                    Password = null,
                    PasswordFile = null,
                    Token = null,
                    TokenFile = null,
                    NKeySeedFile = null,
                    CredsFile = options.Value.SystemCredsFile,
                    InboxPrefix = null,
                },
                loggers, ct);
            var subject = $"$SYS.REQ.ACCOUNT.{issuer.AccountPublicKey}.CLAIMS.UPDATE";
            var reply = await _system.RequestAsync<byte[], byte[]>(subject, Encoding.ASCII.GetBytes(jwt), cancellationToken: ct);
            var answer = reply.Data is { } data ? JsonNode.Parse(data) : null;
            if (answer?["error"] is { } error)
            {
                throw new InvalidOperationException($"NATS did not accept the account JWT: {error["description"]?.ToString() ?? error.ToJsonString()}");
            }
            _log.LogInformation("Account JWT pushed to NATS with {Count} revoked keys", revocations.Count);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_system is not null)
        {
            await _system.DisposeAsync();
        }
    }
}
