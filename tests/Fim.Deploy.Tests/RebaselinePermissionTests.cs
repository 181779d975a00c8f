using System.Text;
using Fim.Contracts;
using Fim.Testing;
using NATS.Client.Core;

namespace Fim.Deploy.Tests;

/// <summary>
/// Issue 18: who may accept drift. The chart's bundled NATS authorization on a real nats-server (TLS verify_and_map):
/// the operator's user reaches an agent's fim.agent.&lt;id&gt;.rebaseline; a manager (which may send every other
/// command) and another agent may not; an agent hears only its own.
/// </summary>
public sealed class RebaselinePermissionTests
{
    [Fact]
    public async Task Only_the_operator_user_may_send_rebaseline_requests_and_an_agent_hears_only_its_own()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        var auth = HelmRender.BundledNatsConfig("nats.bundled.authorization.agents={node-a,node-b}", "nats.bundled.authorization.managers={manager.fim}",
            "nats.bundled.authorization.operators={operator.fim}")["auth.conf"];
        using var certs = TestCertificates.Create();
        await using var server = await NatsServer.StartAsync(certs.NatsServerTls + "\n" + auth);

        NatsOpts Client(string name, string san, string? inbox = null)
        {
            var (cert, key) = certs.Issue(name, san);
            var opts = NatsOpts.Default with
            {
                Url = $"tls://127.0.0.1:{server.Port}",
                TlsOpts = new NatsTlsOpts { Mode = TlsMode.Require, CaFile = certs.CaCert, CertFile = cert, KeyFile = key },
                ConnectTimeout = Eventually.DefaultTimeout,
                RequestTimeout = TimeSpan.FromSeconds(3),
            };
            return inbox is null ? opts : opts with { InboxPrefix = inbox };
        }

        await using var agent = new NatsConnection(Client("node-a", "node-a.agents.fim", "_INBOX.node-a"));
        var heard = new List<string>();
        await using var sub = await agent.SubscribeCoreAsync<byte[]>(Subjects.AgentRebaseline("node-a"), cancellationToken: ct);
        await agent.PingAsync(ct);
        var answering = Task.Run(async () =>
        {
            await foreach (var msg in sub.Msgs.ReadAllAsync(ct))
            {
                lock (heard)
                {
                    heard.Add(Encoding.UTF8.GetString(msg.Data ?? []));
                }

                await msg.ReplyAsync(ContractJson.ToUtf8(new AgentReply { Ok = true, Rebaselined = ["default/pci"] }), cancellationToken: ct);
            }
        }, ct);

        // The operator: request and answer.
        await using var op = new NatsConnection(Client("operator", "operator.fim"));
        var reply = await op.RequestAsync<byte[], byte[]>(Subjects.AgentRebaseline("node-a"), ContractJson.ToUtf8(AgentCommand.Rebaseline("default/pci", "r1", "alice")), cancellationToken: ct);
        Assert.Contains("\"rebaselined\":[\"default/pci\"]", Encoding.UTF8.GetString(reply.Data!));

        // A manager and another agent: refused by the server, never delivered.
        await using var manager = new NatsConnection(Client("manager", "manager.fim"));
        await manager.PublishAsync(Subjects.AgentRebaseline("node-a"), ContractJson.ToUtf8(AgentCommand.Rebaseline("default/pci", "r2", "manager")), cancellationToken: ct);
        await manager.PingAsync(ct);
        await using var other = new NatsConnection(Client("node-b", "node-b.agents.fim", "_INBOX.node-b"));
        await other.PublishAsync(Subjects.AgentRebaseline("node-a"), ContractJson.ToUtf8(AgentCommand.Rebaseline("default/pci", "r3", "node-b")), cancellationToken: ct);
        await other.PingAsync(ct);
        await Eventually.TrueAsync(() => server.Log.Split('\n').Count(l => l.Contains("Violation", StringComparison.OrdinalIgnoreCase) && l.Contains(Subjects.AgentRebaseline("node-a"))) >= 2,
            () => "two publish violations on node-a's rebaseline subject in the server log:\n" + server.Log);

        // node-b may not listen to node-a's requests.
        await using var eavesdrop = await other.SubscribeCoreAsync<byte[]>(Subjects.AgentRebaseline("node-a"), cancellationToken: ct);
        await other.PingAsync(ct);
        await Eventually.TrueAsync(() => server.Log.Contains("Subscription Violation", StringComparison.OrdinalIgnoreCase),
            () => "a subscription violation in the server log:\n" + server.Log);

        // The operator's request arrived; the manager's and the other agent's did not (the round trip above proves ordering).
        reply = await op.RequestAsync<byte[], byte[]>(Subjects.AgentRebaseline("node-a"), ContractJson.ToUtf8(AgentCommand.Rebaseline("default/pci", "r4", "alice")), cancellationToken: ct);
        lock (heard)
        {
            Assert.Equal(2, heard.Count);
            Assert.All(heard, h => Assert.Contains("\"requestedBy\":\"alice\"", h));
        }

        await cts.CancelAsync();
        await answering.ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
