using Fim.Manager.Options;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Nats;

/// <summary>
/// Owns the one NATS connection of a manager. The first connection is retried with backoff for as long as it takes
/// (the manager starts before NATS is up, or while it restarts); after that the client reconnects by itself.
/// Everything that needs NATS awaits <see cref="ConnectedAsync"/>.
/// </summary>
public sealed class NatsConnector : IAsyncDisposable
{
    private readonly NatsOptions _options;
    private readonly ILogger<NatsConnector> _log;
    private readonly TaskCompletionSource<NatsConnection> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private Task? _connecting;
    private NatsConnection? _connection;

    public NatsConnector(IOptions<NatsOptions> options, ILogger<NatsConnector> log)
    {
        _options = options.Value;
        _log = log;
    }

    /// <summary>True while the connection is open (false before the first connect and while reconnecting).</summary>
    public bool IsConnected => _connection?.ConnectionState == NatsConnectionState.Open;

    public NatsConnection? Current => _connection;

    public TimeSpan RequestTimeout => _options.RequestTimeout;

    /// <summary>The connection, once the first connect succeeded. Starts connecting on first use.</summary>
    public Task<NatsConnection> ConnectedAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _connecting ??= Task.Run(() => ConnectLoopAsync(_stop.Token));
        }
        return _connected.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// A second connection with the same settings, owned by the caller. The pipeline publishes alerts on it while acks go
    /// out on the main one, so the two busiest writers do not contend for one socket's write lock.
    /// </summary>
    public async Task<NatsConnection> ConnectExtraAsync(string purpose, CancellationToken cancellationToken)
    {
        await ConnectedAsync(cancellationToken);
        var connection = new NatsConnection(NatsOptsFactory.Create(_options) with { Name = $"{_options.ClientName}-{purpose}" });
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task<INatsJSContext> JetStreamAsync(CancellationToken cancellationToken) =>
        new NatsJSContext(await ConnectedAsync(cancellationToken), new NatsJSOpts(NatsOpts.Default, requestTimeout: _options.RequestTimeout));

    public async Task<INatsKVContext> KeyValueAsync(CancellationToken cancellationToken) =>
        new NatsKVContext(await JetStreamAsync(cancellationToken));

    private async Task ConnectLoopAsync(CancellationToken cancellationToken)
    {
        var delay = _options.MinRetryDelay;
        var attempt = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            attempt++;
            var connection = new NatsConnection(NatsOptsFactory.Create(_options));
            try
            {
                await connection.ConnectAsync();
                _connection = connection;
                _log.LogInformation("Connected to NATS {Url} after {Attempts} attempt(s)", _options.Url, attempt);
                connection.ConnectionDisconnected += (_, _) =>
                {
                    _log.LogWarning("NATS connection lost; the client reconnects");
                    return ValueTask.CompletedTask;
                };
                connection.ConnectionOpened += (_, _) =>
                {
                    _log.LogInformation("NATS connection open");
                    return ValueTask.CompletedTask;
                };
                _connected.TrySetResult(connection);
                return;
            }
            catch (Exception e) when (e is NatsException or TimeoutException or IOException or System.Net.Sockets.SocketException)
            {
                await connection.DisposeAsync();
                if (attempt == 1 || attempt % 10 == 0)
                {
                    _log.LogWarning("Cannot connect to NATS {Url} (attempt {Attempt}): {Error}; retrying", _options.Url, attempt, Describe(e));
                }
                try
                {
                    await Task.Delay(delay, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
        }
    }

    /// <summary>The client wraps the useful part ("authorization violation", a TLS failure) in a generic message.</summary>
    private static string Describe(Exception e)
    {
        var inner = e.GetBaseException();
        return inner == e ? e.Message : $"{e.Message}: {inner.Message}";
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_connecting is not null)
        {
            await _connecting;
        }
        _connected.TrySetCanceled();
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        _stop.Dispose();
    }
}
