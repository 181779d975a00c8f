using System.Text.Json;
using Fim.Contracts;
using Fim.Manager.Nats;
using Microsoft.Extensions.Options;
using NATS.Client.Core;

namespace Fim.Manager.Enrollment;

/// <summary>
/// Answers enrollment requests on <see cref="Subjects.Enroll"/> (one manager of the queue group each): checks the join
/// token, takes one of its uses, records the agent's public key and returns its user JWT, signed with the account key
/// and limited to <see cref="Fim.Nats.Identity.AgentPermissions"/>. At start it pushes the account JWT, so revocations
/// survive a restart of a NATS server that keeps accounts in memory.
/// </summary>
public sealed class EnrollmentResponder(
    NatsConnector nats,
    JoinTokens tokens,
    IdentityDirectory identities,
    EnrollmentKeys keys,
    AccountPublisher account,
    IOptions<EnrollmentOptions> options,
    TimeProvider time,
    ILogger<EnrollmentResponder> log) : BackgroundService
{
    public const string QueueGroup = "fim-managers";

    /// <summary>True while subscribed to enrollment requests.</summary>
    public bool Listening { get; private set; }

    /// <summary>Why it is not listening, when it failed.</summary>
    public string? LastError { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await account.PushAsync(stoppingToken);
                var connection = await nats.ConnectedAsync(stoppingToken);
                await using var sub = await connection.SubscribeCoreAsync<byte[]>(Subjects.Enroll, QueueGroup, cancellationToken: stoppingToken);
                await connection.PingAsync(stoppingToken);
                Listening = true;
                log.LogInformation("Answering enrollment requests on {Subject}", Subjects.Enroll);
                await foreach (var msg in sub.Msgs.ReadAllAsync(stoppingToken))
                {
                    var reply = await AnswerAsync(msg.Data ?? [], stoppingToken);
                    await msg.ReplyAsync(JsonSerializer.SerializeToUtf8Bytes(reply, ContractJson.Default.EnrollReply), cancellationToken: stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Listening = false;
                LastError = e.Message;
                log.LogWarning("Enrollment responder stopped ({Error}); starting again in 2 s", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>One request's answer. Never echoes the token's secret; logs the token id and agent id only.</summary>
    public async Task<EnrollReply> AnswerAsync(byte[] data, CancellationToken ct)
    {
        EnrollRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(data, ContractJson.Default.EnrollRequest);
        }
        catch (JsonException)
        {
            request = null;
        }
        if (request is null)
        {
            return Refuse(EnrollErrors.Invalid, "the request is not an enrollment request (JSON)");
        }
        if (!Subjects.IsValidAgentId(request.AgentId))
        {
            return Refuse(EnrollErrors.Invalid, "agentId: must match [a-z0-9_-]{1,128}");
        }
        if (Subjects.IsIngestAgentId(request.AgentId))
        {
            // The ingest endpoint's events travel under these ids; an agent holding one could pass for Falco.
            return Refuse(EnrollErrors.Invalid, $"agentId: '{Subjects.IngestAgentPrefix}...' is reserved for the managers' ingest endpoint");
        }
        if (request.PublicKey.Length != 56 || request.PublicKey[0] != 'U' || !request.PublicKey.All(char.IsAsciiLetterOrDigit))
        {
            return Refuse(EnrollErrors.Invalid, "publicKey: not an NKey user public key (56 characters starting with U)");
        }
        if (identities.TryGet(request.AgentId, out var existing) && existing.RevokedAt is null && existing.PublicKey != request.PublicKey)
        {
            return Refuse(EnrollErrors.AgentTaken, $"agent id '{request.AgentId}' is enrolled with another key; revoke it first (fimctl identity revoke {request.AgentId})");
        }
        if (await tokens.TryUseAsync(request.TokenId, request.TokenSecret, ct) is { } refusal)
        {
            log.LogWarning("Enrollment of {AgentId} refused: {Reason}", request.AgentId, refusal.Message);
            return Refuse(refusal.Code, refusal.Message);
        }
        var now = time.GetUtcNow();
        var identity = new AgentIdentityRecord { AgentId = request.AgentId, PublicKey = request.PublicKey, EnrolledAt = now, TokenId = request.TokenId };
        if (!await identities.TryEnrollAsync(identity, ct))
        {
            return Refuse(EnrollErrors.AgentTaken, $"agent id '{request.AgentId}' is enrolled with another key; revoke it first (fimctl identity revoke {request.AgentId})");
        }
        log.LogInformation("Enrolled agent {AgentId} with key {PublicKey} (join token {TokenId})", request.AgentId, request.PublicKey, request.TokenId);
        return new EnrollReply { UserJwt = keys.Issuer.AgentUserJwt(request.AgentId, request.PublicKey, now) };
    }

    private static EnrollReply Refuse(string code, string message) => new() { Error = code, Message = message };
}
