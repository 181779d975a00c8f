using System.Diagnostics;
using System.Text;
using Fim.Agent.Connected;
using Fim.Contracts;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Fim.Agent.Tests.Connected;

/// <summary>
/// TLS with client certificates and verify_and_map, permissions from the generated authorization block:
/// an agent can do its job and nothing that touches another agent.
/// </summary>
public sealed class SecurityTests : IDisposable
{
    private readonly TestCertificates _certs = TestCertificates.Create();

    public void Dispose() => _certs.Dispose();

    private string ServerConfig()
    {
        var authz = new NatsAuthorization();
        authz.Agents.AddRange(["agent-a", "agent-b"]);
        authz.Managers.Add("manager.fim");
        authz.Admins.Add("admin.fim");
        return $$"""
            tls {
              cert_file: "{{_certs.ServerCert}}"
              key_file: "{{_certs.ServerKey}}"
              ca_file: "{{_certs.CaCert}}"
              verify_and_map: true
              timeout: 5
            }
            {{authz.Render()}}
            """;
    }

    private NatsOpts ClientOpts(string name, string san, string? inboxPrefix = null)
    {
        var (cert, key) = _certs.Issue(name, san);
        return NatsOpts.Default with
        {
            TlsOpts = new NatsTlsOpts { Mode = TlsMode.Require, CaFile = _certs.CaCert, CertFile = cert, KeyFile = key },
            // The client's own 2 s default does not cover a TLS handshake on a saturated machine.
            ConnectTimeout = Eventually.DefaultTimeout,
            InboxPrefix = inboxPrefix ?? "_INBOX",
            RequestTimeout = TimeSpan.FromSeconds(2),
        };
    }

    private static async Task AwaitServerLog(NatsServer server, string text)
    {
        var deadline = Stopwatch.StartNew();
        while (!server.Log.Contains(text, StringComparison.Ordinal))
        {
            if (deadline.Elapsed > ConnectedHarness.Deadline)
            {
                throw new TimeoutException($"no '{text}' in the nats-server log:\n{server.Log}");
            }
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task An_agent_certificate_can_do_its_own_job_and_nothing_for_another_agent()
    {
        await using var h = await ConnectedHarness.StartAsync("sec", serverConfig: ServerConfig(), adminOpts: ClientOpts("admin", "admin.fim"));
        await using var a = new NatsConnection(ClientOpts("agent-a", "agent-a.agents.fim", "_INBOX.agent-a") with { Url = h.Server.Url });
        await a.ConnectAsync();
        var js = new NatsJSContext(a);
        var kv = new NatsKVContext(js);

        // Its own job: publish its events (JetStream ack), put its heartbeat, read policies, answer its commands.
        var ack = await js.PublishAsync(Subjects.Events("agent-a"), "{}"u8.ToArray(), opts: new NatsJSPubOpts { MsgId = "agent-a:b:1" });
        Assert.Null(ack.Error);
        Assert.Equal(Subjects.EventsStream, ack.Stream);
        var agents = await kv.GetStoreAsync(Subjects.AgentsBucket);
        await agents.PutAsync("agent-a", "{}"u8.ToArray());
        await h.PutPolicyAsync("prod.web", 1, "prod/web", new { paths = new[] { new { path = "/etc" } } });
        var policies = await kv.GetStoreAsync(Subjects.PoliciesBucket);
        using (var watch = new CancellationTokenSource(ConnectedHarness.Deadline))
        {
            await foreach (var entry in policies.WatchAsync<byte[]>(cancellationToken: watch.Token))
            {
                Assert.Equal("prod.web", entry.Key);
                break;
            }
        }
        await using (var commands = await a.SubscribeCoreAsync<byte[]>(Subjects.AgentCommand("agent-a")))
        {
            await a.PingAsync();
            var responder = Task.Run(async () =>
            {
                var msg = await commands.Msgs.ReadAsync();
                await msg.ReplyAsync("{\"ok\":true}"u8.ToArray());
            });
            var reply = await h.Admin.RequestAsync<byte[], byte[]>(Subjects.AgentCommand("agent-a"), "{}"u8.ToArray());
            Assert.Equal("{\"ok\":true}", Encoding.UTF8.GetString(reply.Data!));
            await responder;
        }

        // Another agent's events: refused, and not stored.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
            (await js.PublishAsync(Subjects.Events("agent-b"), "{}"u8.ToArray(), opts: new NatsJSPubOpts { RetryAttempts = 1 })).EnsureSuccess());
        await AwaitServerLog(h.Server, "Publish Violation - User \"agent-a.agents.fim\", Subject \"fim.events.agent-b\"");
        // Its own scan records: stored; another agent's: refused.
        var scanAck = await js.PublishAsync(Subjects.Scans("agent-a"), "{}"u8.ToArray(), opts: new NatsJSPubOpts { MsgId = "scan/1" });
        Assert.Equal(Subjects.ScansStream, scanAck.Stream);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
            (await js.PublishAsync(Subjects.Scans("agent-b"), "{}"u8.ToArray(), opts: new NatsJSPubOpts { RetryAttempts = 1 })).EnsureSuccess());
        await AwaitServerLog(h.Server, "Publish Violation - User \"agent-a.agents.fim\", Subject \"fim.scans.agent-b\"");
        Assert.Equal(1, (await h.Js.GetStreamAsync(Subjects.ScansStream)).Info.State.Messages);
        // Another agent's heartbeat: refused.
        await Assert.ThrowsAnyAsync<Exception>(async () => await agents.PutAsync("agent-b", "{}"u8.ToArray()));
        await AwaitServerLog(h.Server, "Subject \"$KV.fim-agents.agent-b\"");
        // Reading events: no consumer on FIM_EVENTS, no subscription to fim.events.>, nor to another agent's commands.
        await Assert.ThrowsAnyAsync<Exception>(async () => await js.CreateOrUpdateConsumerAsync(Subjects.EventsStream, new ConsumerConfig("spy")));
        await AwaitServerLog(h.Server, "Subject \"$JS.API.CONSUMER.CREATE.FIM_EVENTS");
        await using var spy = await a.SubscribeCoreAsync<byte[]>(Subjects.AllEvents);
        await AwaitServerLog(h.Server, "Subscription Violation - User \"agent-a.agents.fim\", Subject \"fim.events.>\"");
        await using var spyCmd = await a.SubscribeCoreAsync<byte[]>(Subjects.AgentCommand("agent-b"));
        await AwaitServerLog(h.Server, "Subject \"fim.agent.agent-b.cmd\"");

        var stream = await h.Js.GetStreamAsync(Subjects.EventsStream);
        Assert.Equal(1, stream.Info.State.Messages);
        var consumers = new List<string>();
        await foreach (var c in h.Js.ListConsumerNamesAsync(Subjects.EventsStream))
        {
            consumers.Add(c);
        }
        Assert.Empty(consumers);
    }

    [Fact]
    public async Task The_real_agent_runs_over_TLS_with_only_its_generated_permissions()
    {
        await using var h = await ConnectedHarness.StartAsync("sectls", serverConfig: ServerConfig(), adminOpts: ClientOpts("admin", "admin.fim"));
        var (cert, key) = _certs.Issue("agent-a-real", "agent-a.agents.fim");
        h.Tree.Write("web/index.html", "v1");
        File.WriteAllText(h.ConfigFile, $"""
            agentId: agent-a
            labels: {"{ role: web }"}
            nats:
              url: {h.Server.Url}
              tls:
                caFile: {_certs.CaCert}
                certFile: {cert}
                keyFile: {key}
            stateDir: {h.Tree.State}
            keyFile: {h.Tree.KeyFile}
            heartbeatInterval: 2s
            metricsListen: 127.0.0.1:{h.MetricsPort}
            """);
        var agent = h.StartAgent();
        await h.PutPolicyAsync("prod.web", 1, "prod/web", new { paths = new[] { new { path = h.Tree["web"] } } });
        var hb = await h.AwaitHeartbeatAsync(x => x.AppliedPolicies.ContainsKey("prod/web"), () => agent.Stderr + "\n" + h.Server.Log);

        File.WriteAllText(h.Tree["web/index.html"], "v2");
        var events = await h.AwaitEventsAsync(es => es.Any(e => e.Path == h.Tree["web/index.html"]), context: () => agent.Stderr + "\n" + h.Server.Log);
        Assert.Equal("fim.events.agent-a", Assert.Single(events).Subject);
        var reply = await h.CommandAsync($$"""{"command":"state","path":"{{h.Tree["web/index.html"]}}"}""");
        Assert.True(reply.GetProperty("ok").GetBoolean(), reply.ToString());
        Assert.DoesNotContain("Violation", h.Server.Log);
    }
}
