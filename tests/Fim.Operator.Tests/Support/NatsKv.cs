using System.Text.Json;
using Fim.Contracts;
using Fim.Operator.Nats;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fim.Operator.Tests.Support;

/// <summary>A real nats-server with the two KV buckets, the operator's NATS stores on it, and a way to play an agent.</summary>
internal sealed class NatsKv : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _watch;

    private NatsKv(NatsServer server, NatsConnection connection)
    {
        Server = server;
        Connection = connection;
    }

    public NatsServer Server { get; }
    public NatsConnection Connection { get; }
    public INatsKVStore Policies { get; private set; } = null!;
    public INatsKVStore AgentsBucket { get; private set; } = null!;
    public NatsPolicyStore PolicyStore { get; private set; } = null!;
    public NatsAgentDirectory Agents { get; private set; } = null!;

    public static async Task<NatsKv> StartAsync()
    {
        var server = await NatsServer.StartAsync();
        var connection = new NatsConnection(NatsOpts.Default with { Url = server.Url });
        var kv = new NatsKv(server, connection);
        kv.Policies = await NatsBuckets.OpenAsync(connection, Subjects.PoliciesBucket, CancellationToken.None);
        kv.AgentsBucket = await NatsBuckets.OpenAsync(connection, Subjects.AgentsBucket, CancellationToken.None);
        kv.PolicyStore = new NatsPolicyStore(kv.Policies);
        kv.Agents = new NatsAgentDirectory(kv.AgentsBucket, NullLogger.Instance);
        kv._watch = kv.Agents.RunAsync(kv._stop.Token);
        return kv;
    }

    /// <summary>Writes a heartbeat as the agent does: the shared record.</summary>
    public async Task HeartbeatAsync(string agentId, Dictionary<string, string> labels, Dictionary<string, long> applied)
    {
        await AgentsBucket.PutAsync(agentId, ContractJson.ToUtf8(TestHeartbeats.Make(agentId, labels, applied)));
    }

    public async Task<byte[]?> PolicyValueAsync(string key) => await PolicyStore.GetAsync(key, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_watch is not null)
        {
            await _watch.ContinueWith(_ => { });
        }

        await Connection.DisposeAsync();
        await Server.DisposeAsync();
        _stop.Dispose();
    }
}
