using System.Text.Json;
using Fim.Contracts;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.NKeys;

namespace Fim.Nats.Identity;

/// <summary>A refused enrollment: <see cref="Code"/> is one of <see cref="EnrollErrors"/>; the message never holds a secret.</summary>
public sealed class EnrollmentException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>
/// The agent's side of enrollment: logs in as the join token's bootstrap user, sends the agent id and the public key of
/// a key pair generated here, and gets back the agent's user JWT. The seed is never sent.
/// </summary>
public static class EnrollmentClient
{
    public static async Task<string> EnrollAsync(NatsClientOptions server, JoinToken token, string agentId, KeyPair key, ILoggerFactory? loggers,
        CancellationToken cancellationToken)
    {
        var publicKey = key.GetPublicKey();
        var opts = NatsConnectionFactory.CreateOpts(server with { User = null, Password = null, PasswordFile = null, Token = null, TokenFile = null, NKeySeedFile = null, CredsFile = null }, loggers) with
        {
            AuthOpts = NatsAuthOpts.Default with { Jwt = token.BootstrapJwt, Seed = token.BootstrapSeed },
            InboxPrefix = AgentPermissions.BootstrapInboxPrefix,
            RetryOnInitialConnect = false,
            MaxReconnectRetry = 0,
        };
        await using var nats = new NatsConnection(opts);
        try
        {
            await nats.ConnectAsync();
        }
        catch (NatsException e)
        {
            throw new EnrollmentException(EnrollErrors.Unavailable,
                $"NATS at {SecretMasking.MaskUrl(server.Url)} refused the {token} bootstrap login (revoked token, or not this NATS account?): {NatsConnectionFactory.Describe(e)}");
        }
        var request = new EnrollRequest { AgentId = agentId, PublicKey = publicKey, TokenId = token.TokenId, TokenSecret = token.Secret };
        NatsMsg<byte[]> reply;
        try
        {
            reply = await nats.RequestAsync<byte[], byte[]>(Subjects.Enroll, JsonSerializer.SerializeToUtf8Bytes(request, ContractJson.Default.EnrollRequest),
                replyOpts: new NatsSubOpts { Timeout = server.RequestTimeout }, cancellationToken: cancellationToken);
        }
        catch (NatsNoRespondersException)
        {
            throw new EnrollmentException(EnrollErrors.Unavailable, $"no manager answers enrollment requests on {Subjects.Enroll} at {server.Url} (is enrollment enabled on the managers?)");
        }
        catch (Exception e) when (e is NatsException or TimeoutException)
        {
            throw new EnrollmentException(EnrollErrors.Unavailable, $"enrollment request on {server.Url} failed: {NatsConnectionFactory.Describe(e)}");
        }
        EnrollReply? answer;
        try
        {
            answer = JsonSerializer.Deserialize(reply.Data ?? [], ContractJson.Default.EnrollReply);
        }
        catch (JsonException)
        {
            answer = null;
        }
        if (answer is null)
        {
            throw new EnrollmentException(EnrollErrors.Unavailable, "the manager's answer to the enrollment request is not an enrollment reply");
        }
        if (answer.Error is { } code)
        {
            throw new EnrollmentException(code, $"enrollment of '{agentId}' refused: {answer.Message ?? code}");
        }
        var jwt = answer.UserJwt ?? throw new EnrollmentException(EnrollErrors.Unavailable, "the manager's enrollment reply holds no user JWT");
        try
        {
            var claims = NatsJwt.DecodeVerified(jwt);
            if (claims["sub"]?.GetValue<string>() != publicKey)
            {
                throw new FormatException("it was issued for another key");
            }
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new EnrollmentException(EnrollErrors.Unavailable, $"the user JWT the manager sent is not usable: {e.Message}");
        }
        return jwt;
    }
}
