using Fim.Contracts;

namespace Fim.Manager.Enrollment;

/// <summary>What fimctl may do with enrollment: join tokens (create, list, revoke) and agents' identities (list, revoke).</summary>
public sealed class EnrollmentAdmin(JoinTokens tokens, IdentityDirectory identities, AccountPublisher account, TimeProvider time, ILogger<EnrollmentAdmin> log)
{
    public Task<(JoinTokenRecord Record, string Token)> CreateTokenAsync(int uses, TimeSpan ttl, string description, CancellationToken ct) =>
        tokens.CreateAsync(uses, ttl, description, ct);

    public Task<IReadOnlyList<JoinTokenRecord>> ListTokensAsync(CancellationToken ct) => tokens.ListAsync(ct);

    /// <summary>Revokes the token and its bootstrap user (pushed to NATS at once); null when unknown.</summary>
    public async Task<JoinTokenRecord?> RevokeTokenAsync(string tokenId, CancellationToken ct)
    {
        var record = await tokens.RevokeAsync(tokenId, ct);
        if (record is not null)
        {
            await account.PushAsync(ct);
            log.LogInformation("Join token {TokenId} revoked", tokenId);
        }
        return record;
    }

    public IReadOnlyList<AgentIdentityRecord> ListIdentities() => identities.All;

    /// <summary>Revokes the agent's key: NATS refuses it and closes its connections once the account JWT is pushed.</summary>
    public async Task<AgentIdentityRecord?> RevokeIdentityAsync(string agentId, CancellationToken ct)
    {
        var record = await identities.RevokeAsync(agentId, time.GetUtcNow(), ct);
        if (record is not null)
        {
            await account.PushAsync(ct);
            log.LogInformation("Agent {AgentId} identity {PublicKey} revoked", agentId, record.PublicKey);
        }
        return record;
    }
}
