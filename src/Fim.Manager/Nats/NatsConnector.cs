using Fim.Manager.Options;
using Fim.Nats;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Nats;

/// <summary>
/// Owns the one NATS connection of a manager. The client retries the first connect for as long as it takes (the
/// manager starts before NATS is up, or while it restarts) and reconnects by itself afterwards. Everything that needs
/// NATS awaits <see cref="ConnectedAsync"/>.
/// </summary>
public sealed class NatsConnector : IAsyncDisposable
{
    private readonly NatsOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<NatsConnector> _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private Task<NatsConnection>? _connecting;
    private NatsConnection? _connection;

    public NatsConnector(IOptions<NatsOptions> options, ILoggerFactory loggers)
    {
        _options = options.Value;
        _loggers = loggers;
        _log = loggers.CreateLogger<NatsConnector>();
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
            _connecting ??= ConnectAsync(_stop.Token);
        }
        return _connecting.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// A second connection with the same settings, owned by the caller. The pipeline publishes alerts on it while acks go
    /// out on the main one, so the two busiest writers do not contend for one socket's write lock.
    /// </summary>
    public async Task<NatsConnection> ConnectExtraAsync(string purpose, CancellationToken cancellationToken)
    {
        await ConnectedAsync(cancellationToken);
        var options = _options.ToClientOptions() with { Name = $"{_options.ClientName}-{purpose}" };
        return await NatsConnectionFactory.ConnectAsync(options, _loggers, cancellationToken, Tune);
    }

    public async Task<INatsJSContext> JetStreamAsync(CancellationToken cancellationToken) =>
        new NatsJSContext(await ConnectedAsync(cancellationToken), new NatsJSOpts(NatsOpts.Default, requestTimeout: _options.RequestTimeout));

    public async Task<INatsKVContext> KeyValueAsync(CancellationToken cancellationToken) =>
        new NatsKVContext(await JetStreamAsync(cancellationToken));

    private async Task<NatsConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        _log.LogInformation("Connecting to NATS ({Options})", _options);
        var connection = await NatsConnectionFactory.ConnectAsync(_options.ToClientOptions(), _loggers, cancellationToken, Tune);
        _connection = connection;
        _log.LogInformation("Connected to NATS {Url}", SecretMasking.MaskUrl(_options.Url));
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
        return connection;
    }

    /// <summary>Managers read a lot; socket buffers and the pending channel hold a full pull batch.</summary>
    private static NatsOpts Tune(NatsOpts opts) => opts with
    {
        SubPendingChannelCapacity = 4096,
        WriterBufferSize = 1024 * 1024,
        ReaderBufferSize = 1024 * 1024,
    };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_connecting is not null)
        {
            await ((Task)_connecting).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        _stop.Dispose();
    }
}
