using System.Diagnostics;
using Fim.Contracts;
using Fim.Manager.Enrollment;
using Fim.Manager.Tests.Support;
using Fim.Nats;
using Fim.Nats.Identity;
using Fim.Testing;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.NKeys;

namespace Fim.Manager.Tests;

/// <summary>
/// Enrollment against a real nats-server in operator (JWT) mode: a manager issues agents' user JWTs for join tokens,
/// the server enforces each agent's permissions, and revocations reach the server without a restart.
/// </summary>
public sealed class EnrollmentTests : IAsyncLifetime
{
    private readonly NatsJwtAccounts _accounts = new();
    private NatsServer _server = null!;
    private TestManager _manager = null!;

    public async Task InitializeAsync()
    {
        _server = await NatsServer.StartAsync(_accounts.ServerConfig());
        _manager = await TestManager.StartAsync(_server.Url, _accounts.WriteEnrollmentFiles(_server.WorkDir));
        var responder = _manager.Services.GetRequiredService<EnrollmentResponder>();
        try
        {
            await Eventually.TrueAsync(() => responder.Listening, "the manager answers enrollment requests");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} (last error: {responder.LastError})", e);
        }
    }

    public async Task DisposeAsync()
    {
        await _manager.DisposeAsync();
        await _server.DisposeAsync();
    }

    private EnrollmentAdmin Admin => _manager.Services.GetRequiredService<EnrollmentAdmin>();

    private NatsClientOptions Client => new() { Url = _server.Url, RequestTimeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Hundred_agents_enroll_with_one_token_and_each_may_publish_only_its_own_subject()
    {
        var (_, text) = await Admin.CreateTokenAsync(100, TimeSpan.FromHours(1), "fleet", default);
        var token = JoinToken.Parse(text);
        var agents = Enumerable.Range(0, 100).Select(i => $"node-{i:000}").ToArray();
        var creds = new string[agents.Length];
        await Parallel.ForEachAsync(Enumerable.Range(0, agents.Length), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var key = KeyPair.CreatePair(PrefixByte.User);
            var jwt = await EnrollmentClient.EnrollAsync(Client, token, agents[i], key, null, ct);
            creds[i] = Path.Combine(_server.WorkDir, agents[i] + ".creds");
            await File.WriteAllTextAsync(creds[i], NatsJwt.CredsFile(jwt, key.GetSeed()), ct);
        });

        // The token had exactly 100 uses: the 101st host is told so.
        var extra = await Assert.ThrowsAsync<EnrollmentException>(() =>
            EnrollmentClient.EnrollAsync(Client, token, "node-extra", KeyPair.CreatePair(PrefixByte.User), null, default));
        Assert.Equal(EnrollErrors.UsedUp, extra.Code);

        await Parallel.ForEachAsync(Enumerable.Range(0, agents.Length), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var other = agents[(i + 1) % agents.Length];
            await using var nats = await ConnectAsync(creds[i], agents[i]);
            var js = new NatsJSContext(nats);
            var ack = await js.PublishAsync(Subjects.Events(agents[i]), "own"u8.ToArray(), cancellationToken: ct);
            ack.EnsureSuccess();
            // As another agent: the server refuses the publish, so no stream ever answers it.
            await Assert.ThrowsAnyAsync<Exception>(async () =>
                (await js.PublishAsync(Subjects.Events(other), "forged"u8.ToArray(), opts: new NatsJSPubOpts { RetryAttempts = 1 }, cancellationToken: ct)).EnsureSuccess());
        });
        await using var admin = await NatsTestClient.ConnectAsync(_server.Url, o => o with { AuthOpts = NatsAuthOpts.Default with { CredsFile = _accounts.WriteUserCreds(Path.Combine(_server.WorkDir, "admin.creds"), "admin") } });
        foreach (var agent in agents)
        {
            var stored = await admin.ReadAsync(Subjects.EventsStream, Subjects.Events(agent));
            Assert.Equal(["own"], stored.Select(m => m.Text));
        }
    }

    [Fact]
    public async Task A_revoked_agent_is_disconnected_and_refused_within_ten_seconds_without_a_nats_restart()
    {
        var (_, text) = await Admin.CreateTokenAsync(1, TimeSpan.FromHours(1), "one", default);
        var key = KeyPair.CreatePair(PrefixByte.User);
        var jwt = await EnrollmentClient.EnrollAsync(Client, JoinToken.Parse(text), "revoked-node", key, null, default);
        var creds = Path.Combine(_server.WorkDir, "revoked.creds");
        await File.WriteAllTextAsync(creds, NatsJwt.CredsFile(jwt, key.GetSeed()));
        await using var connected = await ConnectAsync(creds, "revoked-node");
        var serverPid = _server.CpuTime;

        var clock = Stopwatch.StartNew();
        Assert.NotNull(await Admin.RevokeIdentityAsync("revoked-node", default));
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await using var again = await ConnectAsync(creds, "revoked-node");
                return false;
            }
            catch (NatsException)
            {
                return true;
            }
        }, "the revoked agent's login is refused", TimeSpan.FromSeconds(10));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"refused after {clock.Elapsed}");
        await Eventually.TrueAsync(() => connected.ConnectionState != NatsConnectionState.Open, "the open connection of the revoked agent is closed", TimeSpan.FromSeconds(10));
        Assert.True(_server.CpuTime >= serverPid, "the same nats-server process throughout");
    }

    [Fact]
    public async Task An_expired_or_used_up_join_token_is_refused_saying_which()
    {
        var (_, once) = await Admin.CreateTokenAsync(1, TimeSpan.FromHours(1), "once", default);
        await EnrollmentClient.EnrollAsync(Client, JoinToken.Parse(once), "first-node", KeyPair.CreatePair(PrefixByte.User), null, default);
        var usedUp = await Assert.ThrowsAsync<EnrollmentException>(() =>
            EnrollmentClient.EnrollAsync(Client, JoinToken.Parse(once), "second-node", KeyPair.CreatePair(PrefixByte.User), null, default));
        Assert.Equal(EnrollErrors.UsedUp, usedUp.Code);
        Assert.Contains("used up (1 of 1 uses)", usedUp.Message);

        var (record, shortLived) = await Admin.CreateTokenAsync(5, TimeSpan.FromMilliseconds(1), "short", default);
        await Eventually.TrueAsync(() => DateTimeOffset.UtcNow > record.ExpiresAt, "the token's expiry passed");
        var expired = await Assert.ThrowsAsync<EnrollmentException>(() =>
            EnrollmentClient.EnrollAsync(Client, JoinToken.Parse(shortLived), "late-node", KeyPair.CreatePair(PrefixByte.User), null, default));
        Assert.Equal(EnrollErrors.Expired, expired.Code);
        Assert.Contains("expired at", expired.Message);

        var (_, revoked) = await Admin.CreateTokenAsync(5, TimeSpan.FromHours(1), "revoked", default);
        await Admin.RevokeTokenAsync(JoinToken.Parse(revoked).TokenId, default);
        // Its bootstrap user is revoked in NATS too, so the refusal comes from the server.
        var refused = await Assert.ThrowsAsync<EnrollmentException>(() =>
            EnrollmentClient.EnrollAsync(Client, JoinToken.Parse(revoked), "other-node", KeyPair.CreatePair(PrefixByte.User), null, default));
        Assert.Contains("refused", refused.Message);

        // Secrets stay out of what a refused host sees.
        foreach (var message in new[] { usedUp.Message, expired.Message, refused.Message })
        {
            Assert.DoesNotContain(JoinToken.Parse(once).Secret, message);
            Assert.DoesNotContain(JoinToken.Parse(shortLived).Secret, message);
        }
    }

    private async Task<NatsConnection> ConnectAsync(string creds, string agentId)
    {
        var nats = new NatsConnection(NatsOpts.Default with
        {
            Url = _server.Url,
            AuthOpts = NatsAuthOpts.Default with { CredsFile = creds },
            InboxPrefix = $"_INBOX.{agentId}",
            MaxReconnectRetry = 0,
            RequestTimeout = TimeSpan.FromSeconds(3),
        });
        try
        {
            await nats.ConnectAsync();
        }
        catch
        {
            await nats.DisposeAsync();
            throw;
        }
        return nats;
    }
}
