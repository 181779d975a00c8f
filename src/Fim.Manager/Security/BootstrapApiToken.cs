using Fim.Manager.Options;
using Fim.Nats;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Security;

/// <summary>
/// The first admin of a site without an IdP: the API token in <see cref="ApiTokenOptions.BootstrapTokenFile"/> is put
/// into KV fim-api-tokens (as its hash, like any token) as an unscoped admin token, once. A token id already there is
/// left alone, revoked or expired included, so restarting a manager never renews or revives it; it expires
/// <see cref="ApiTokenOptions.BootstrapTokenLifetime"/> after the first registration.
/// </summary>
public sealed class BootstrapApiToken(ApiTokenStore store, IOptions<AuthOptions> options, TimeProvider time, ILogger<BootstrapApiToken> log) : BackgroundService
{
    public const string Name = "bootstrap";
    public const string CreatedBy = "bootstrap-token-file";

    /// <summary>The token text in <paramref name="file"/> and its id, or null when the file holds none.</summary>
    public static (string Id, string Token)? Read(string file)
    {
        var text = File.ReadAllText(file).Trim();
        return ApiTokenFormat.TryParse(text, out var id) ? (id, text) : null;
    }

    /// <summary>Whether this call registered it (false: it was there already).</summary>
    public async Task<bool> RegisterAsync(CancellationToken cancellationToken)
    {
        var tokens = options.Value.Tokens;
        if (tokens.BootstrapTokenFile is not { } file)
        {
            return false;
        }
        var (id, token) = Read(file) ?? throw new InvalidOperationException($"{AuthOptions.Section}:Tokens:BootstrapTokenFile: file '{file}' holds no API token");
        var now = time.GetUtcNow();
        var record = new ApiTokenRecord
        {
            TokenId = id,
            Name = Name,
            Role = Roles.Name(Role.Admin),
            Sha256 = ApiTokenRecord.Hash(token),
            CreatedAt = now,
            CreatedBy = CreatedBy,
            ExpiresAt = now + tokens.BootstrapTokenLifetime,
        };
        if (await store.CreateAsync(record, cancellationToken))
        {
            log.LogWarning("Bootstrap API token {TokenId} (admin) registered; it expires at {ExpiresAt:u}. Create your own tokens with it, then revoke it: fimctl token revoke {TokenId}",
                id, record.ExpiresAt, id);
            return true;
        }
        log.LogInformation("Bootstrap API token {TokenId} is registered already; it is never renewed", id);
        return false;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Tokens.BootstrapTokenFile is null)
        {
            return Task.CompletedTask;
        }
        var retry = RetryForever.Create("registering the bootstrap API token", RetryBackoff.Constant(TimeSpan.FromSeconds(2)), log, time);
        return retry.UntilDoneAsync(async ct => await RegisterAsync(ct), stoppingToken);
    }
}
