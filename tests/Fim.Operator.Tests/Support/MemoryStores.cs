using Fim.Contracts;
using System.Collections.Concurrent;
using Fim.Operator.Controllers.Policy;

namespace Fim.Operator.Tests.Support;

/// <summary>KV fim-policies in memory, counting writes.</summary>
internal sealed class MemoryPolicyStore : IPolicyStore
{
    public ConcurrentDictionary<string, byte[]> Values { get; } = new();

    public int Puts;
    public int Deletes;

    public Task<byte[]?> GetAsync(string key, CancellationToken ct) => Task.FromResult(Values.TryGetValue(key, out var v) ? v : null);

    /// <summary>When set, puts fail like a NATS outage.</summary>
    public volatile bool Failing;

    public Task PutAsync(string key, byte[] value, CancellationToken ct)
    {
        if (Failing)
        {
            throw new IOException("nats: connection refused");
        }

        Interlocked.Increment(ref Puts);
        Values[key] = value;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> KeysAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>([.. Values.Keys]);

    public Task DeleteAsync(string key, CancellationToken ct)
    {
        Interlocked.Increment(ref Deletes);
        Values.TryRemove(key, out _);
        return Task.CompletedTask;
    }
}

internal sealed class MemoryAgentDirectory : IAgentDirectory
{
    private readonly ConcurrentDictionary<string, Heartbeat> _agents = new();

    public IReadOnlyCollection<Heartbeat> Agents => [.. _agents.Values];

    public event Action? Changed;

    public void Put(Heartbeat hb)
    {
        _agents[hb.AgentId] = hb;
        Changed?.Invoke();
    }
}
