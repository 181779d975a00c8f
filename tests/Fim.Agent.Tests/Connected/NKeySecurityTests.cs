using Fim.Agent.Connected;
using Fim.Contracts;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.NKeys;

namespace Fim.Agent.Tests.Connected;

/// <summary>Agents that log in with an NKey seed instead of a client certificate get the same least privilege.</summary>
public sealed class NKeySecurityTests
{
    [Fact]
    public async Task An_agent_nkey_publishes_its_own_events_and_the_server_refuses_it_another_agents_subject()
    {
        var agentA = KeyPair.CreatePair(PrefixByte.User);
        var admin = KeyPair.CreatePair(PrefixByte.User);
        var authz = new NatsAuthorization();
        authz.AgentNKeys["agent-a"] = agentA.GetPublicKey();
        var config = authz.Render().Replace("  users = [", $"  users = [\n    {{ nkey: \"{admin.GetPublicKey()}\" }}", StringComparison.Ordinal);
        await using var server = await NatsServer.StartAsync(config);
        await using var adminConnection = new NatsConnection(Login(server, admin));
        await new NatsJSContext(adminConnection).CreateStreamAsync(new StreamConfig(Subjects.EventsStream, [Subjects.AllEvents]));

        await using var a = new NatsConnection(Login(server, agentA) with { InboxPrefix = "_INBOX.agent-a", RequestTimeout = TimeSpan.FromSeconds(2) });
        var js = new NatsJSContext(a);
        var own = await js.PublishAsync(Subjects.Events("agent-a"), "{}"u8.ToArray(), opts: new NatsJSPubOpts { MsgId = "agent-a:b:1" });

        Assert.Null(own.Error);
        await Assert.ThrowsAnyAsync<NatsException>(async () =>
            await js.PublishAsync(Subjects.Events("agent-b"), "{}"u8.ToArray(), opts: new NatsJSPubOpts { MsgId = "agent-b:b:1" }));
        var stored = await new NatsJSContext(adminConnection).GetStreamAsync(Subjects.EventsStream);
        Assert.Equal(1, stored.Info.State.Messages);
    }

    [Fact]
    public void A_malformed_agent_nkey_is_refused_when_the_block_is_rendered()
    {
        var authz = new NatsAuthorization();
        authz.AgentNKeys["agent-a"] = "SUAM-not-a-public-key";

        var error = Assert.Throws<ArgumentException>(authz.Render);
        Assert.Contains("is not an NKey user public key", error.Message);
    }

    private static NatsOpts Login(NatsServer server, KeyPair key) => NatsOpts.Default with
    {
        Url = server.Url,
        AuthOpts = NatsAuthOpts.Default with { NKey = key.GetPublicKey(), Seed = key.GetSeed() },
    };
}
