using System.Collections.Concurrent;
using Fim.Contracts;
using Fim.Nats;
using Fim.Operator.Controllers.Policy;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Fim.Operator.Nats;

/// <summary>Opens (creating when missing, with the settings of <see cref="FimBuckets"/>) the two KV buckets the operator uses.</summary>
public static class NatsBuckets
{
    public static Task<INatsKVStore> OpenAsync(NatsConnection nats, string bucket, CancellationToken ct) =>
        FimBuckets.OpenOrCreateAsync(new NatsKVContext(new NatsJSContext(nats)), bucket, replicas: 1, ct);
}

/// <summary>KV is not reachable now (not connected yet, or no answer within the call timeout).</summary>
public sealed class KvUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Runs one KV call with a deadline: a bucket that is not open yet fails at once, and a call NATS does not answer
/// within the timeout fails with <see cref="KvUnavailableException"/>, so no worker waits on NATS.
/// </summary>
public sealed class KvCall(Func<INatsKVStore?> bucket, string name, TimeSpan timeout)
{
    public async Task<T> RunAsync<T>(Func<INatsKVStore, CancellationToken, Task<T>> call, CancellationToken ct)
    {
        var b = bucket() ?? throw new KvUnavailableException($"not connected to NATS yet (KV {name} not open)");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            return await call(b, deadline.Token);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new KvUnavailableException($"KV {name} did not answer within {timeout.TotalSeconds:0.#} s", e);
        }
    }
}

/// <summary>KV fim-policies, every call bounded by a timeout.</summary>
public sealed class NatsPolicyStore(Func<INatsKVStore?> bucket, TimeSpan timeout) : IPolicyStore
{
    private readonly KvCall _call = new(bucket, Subjects.PoliciesBucket, timeout);

    public NatsPolicyStore(INatsKVStore bucket)
        : this(() => bucket, TimeSpan.FromSeconds(5))
    {
    }

    public Task<byte[]?> GetAsync(string key, CancellationToken ct) => _call.RunAsync(async (b, token) =>
    {
        try
        {
            var entry = await b.GetEntryAsync<byte[]>(key, cancellationToken: token);
            return entry.Value;
        }
        catch (NatsKVKeyNotFoundException)
        {
            return null;
        }
        catch (NatsKVKeyDeletedException)
        {
            return null;
        }
    }, ct);

    public Task PutAsync(string key, byte[] value, CancellationToken ct) => _call.RunAsync(async (b, token) => await b.PutAsync(key, value, cancellationToken: token), ct);

    public Task DeleteAsync(string key, CancellationToken ct) => _call.RunAsync(async (b, token) =>
    {
        await b.DeleteAsync(key, cancellationToken: token);
        return true;
    }, ct);

    public Task<IReadOnlyList<string>> KeysAsync(CancellationToken ct) => _call.RunAsync<IReadOnlyList<string>>(async (b, token) =>
    {
        var keys = new List<string>();
        await foreach (var key in b.GetKeysAsync(cancellationToken: token))
        {
            keys.Add(key);
        }

        return keys;
    }, ct);
}

/// <summary>
/// A bucket's latest values, kept current by a watch (retrying while the bucket is not open); values <paramref name="read"/>
/// cannot read are skipped. <see cref="Loaded"/> once the values present at the start have come.
/// </summary>
public abstract class NatsKvMirror<T>(Func<INatsKVStore?> bucket, string name, Func<byte[], T?> read, ILogger logger)
    where T : class
{
    protected ConcurrentDictionary<string, T> Entries { get; } = new();

    /// <summary>True once the watch has delivered what the bucket held when it started.</summary>
    public bool Loaded { get; private set; }

    /// <summary>Raised after any value changed.</summary>
    public event Action? Changed;

    public Task RunAsync(CancellationToken ct) => OperatorRetries.WatchBucket(name, logger).KeepRunningAsync(async token =>
    {
        var b = bucket() ?? throw new KvUnavailableException($"not connected to NATS yet (KV {name} not open)");
        void OnLoaded()
        {
            Loaded = true;
            Changed?.Invoke();
        }

        await foreach (var entry in b.WatchAsync<byte[]>(">", opts: FimBuckets.MirrorWatch(OnLoaded), cancellationToken: token))
        {
            if (entry.Operation is NatsKVOperation.Del or NatsKVOperation.Purge || entry.Value is null)
            {
                Entries.TryRemove(entry.Key, out _);
            }
            else if (read(entry.Value) is { } value)
            {
                Entries[entry.Key] = value;
            }
            else
            {
                logger.LogDebug("KV {Bucket}/{Key}: not a {Type}", name, entry.Key, typeof(T).Name);
                continue;
            }

            if (entry.Delta == 0 && !Loaded)
            {
                OnLoaded();
                continue;
            }

            Changed?.Invoke();
        }
    }, ct);
}

/// <summary>KV fim-agents: the latest heartbeat per agent.</summary>
public sealed class NatsAgentDirectory(Func<INatsKVStore?> bucket, ILogger logger)
    : NatsKvMirror<Heartbeat>(bucket, Subjects.AgentsBucket, v => ContractJson.ReadHeartbeat(v), logger), IAgentDirectory
{
    public NatsAgentDirectory(INatsKVStore bucket, ILogger logger)
        : this(() => bucket, logger)
    {
    }

    public IReadOnlyCollection<Heartbeat> Agents => [.. Entries.Values];
}

/// <summary>KV fim-unreviewed-alerts: the managers' count of each agent's unreviewed high-level alerts.</summary>
public sealed class NatsUnreviewedAlerts(Func<INatsKVStore?> bucket, ILogger logger)
    : NatsKvMirror<UnreviewedAlerts>(bucket, Subjects.UnreviewedAlertsBucket, v => ContractJson.ReadUnreviewedAlerts(v), logger),
      Controllers.NodeStatus.IUnreviewedAlertCounts
{
    /// <summary>0 for an agent without a key (managers delete it at zero); null until the bucket has been read.</summary>
    public long? CountOf(string agentId) => Loaded ? Entries.GetValueOrDefault(agentId)?.Count ?? 0 : null;
}

/// <summary>
/// The operator's NATS side, off the start path: connects in the background (the client retrying), opens the two
/// buckets (retrying each attempt under a timeout), and raises <see cref="Available"/> each time the connection
/// (re)opens with the buckets ready, so work that failed meanwhile is retried at once. Until then the stores fail
/// fast with <see cref="KvUnavailableException"/>. A refused login ends in <see cref="NatsLoginException"/>.
/// </summary>
public sealed class NatsKvConnection(NatsClientOptions options, TimeSpan callTimeout, ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly ILogger _logger = loggers.CreateLogger<NatsKvConnection>();
    private NatsConnection? _connection;
    private volatile INatsKVStore? _policies;
    private volatile INatsKVStore? _agents;
    private volatile INatsKVStore? _maintenance;
    private volatile INatsKVStore? _unreviewed;
    private volatile NatsConnection? _open;

    public event Action? Available;

    /// <summary>KV fim-maintenance (node hold-off windows); opened after the two others, its failure does not hold them up.</summary>
    public Fim.Operator.Controllers.Node.NatsMaintenanceWindowStore MaintenanceStore => new(() => _maintenance, callTimeout);

    /// <summary>Notifications for the managers' webhook sink (stream FIM_NOTIFICATIONS), once the buckets are open.</summary>
    public Fim.Operator.Notifications.NatsNotificationPublisher Notifications => new(() => _open, callTimeout);

    public INatsKVStore? PoliciesBucket => _policies;

    /// <summary>The connection once made (re-baseline requests go on it); null before.</summary>
    public NatsConnection? Connection => _connection;

    public INatsKVStore? AgentsBucket => _agents;

    public NatsPolicyStore PolicyStore => new(() => _policies, callTimeout);

    public NatsAgentDirectory AgentDirectory(ILogger logger) => new(() => _agents, logger);

    public NatsUnreviewedAlerts UnreviewedAlerts(ILogger logger) => new(() => _unreviewed, logger);

    public async Task RunAsync(CancellationToken ct)
    {
        _connection = await NatsConnectionFactory.ConnectAsync(options, loggers, ct);
        _connection.ConnectionOpened += (_, _) =>
        {
            if (_policies is not null)
            {
                _logger.LogInformation("NATS connection reopened");
                Available?.Invoke();
            }

            return ValueTask.CompletedTask;
        };
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                attempt.CancelAfter(callTimeout);
                var policies = await NatsBuckets.OpenAsync(_connection, Subjects.PoliciesBucket, attempt.Token);
                var agents = await NatsBuckets.OpenAsync(_connection, Subjects.AgentsBucket, attempt.Token);
                (_policies, _agents, _open) = (policies, agents, _connection);
                _logger.LogInformation("NATS KV buckets {Policies} and {Agents} open", Subjects.PoliciesBucket, Subjects.AgentsBucket);
                Available?.Invoke();
                await Task.WhenAll(
                    OpenApartAsync(Subjects.MaintenanceBucket, "node hold-off", b => _maintenance = b, ct),
                    OpenApartAsync(Subjects.UnreviewedAlertsBucket, "unreviewed alerts in node statuses", b => _unreviewed = b, ct));
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                _logger.LogWarning("opening the NATS KV buckets: {Error}; retrying", NatsConnectionFactory.Describe(e));
                await Task.Delay(OperatorRetries.BucketWatch.First, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// A bucket only one feature needs, retried apart from the two the operator cannot work without: NATS permissions
    /// that predate the feature refuse it, and only that feature waits.
    /// </summary>
    private async Task OpenApartAsync(string bucket, string feature, Action<INatsKVStore> opened, CancellationToken ct)
    {
        for (var attempt = 1; !ct.IsCancellationRequested; attempt++)
        {
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                deadline.CancelAfter(callTimeout);
                opened(await NatsBuckets.OpenAsync(_connection!, bucket, deadline.Token));
                _logger.LogInformation("NATS KV bucket {Bucket} open ({Feature})", bucket, feature);
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                if (attempt == 1 || attempt % 30 == 0)
                {
                    _logger.LogWarning("opening KV {Bucket} ({Feature}): {Error}; retrying", bucket, feature, NatsConnectionFactory.Describe(e));
                }

                await Task.Delay(OperatorRetries.BucketWatch.First, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}
