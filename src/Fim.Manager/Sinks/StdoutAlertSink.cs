using Fim.Contracts;
using Fim.Manager.Options;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Sinks;

/// <summary>Where the stdout sink writes; a seam for tests.</summary>
public sealed class AlertOutput(Stream stream)
{
    public Stream Stream { get; } = stream;

    public static AlertOutput Stdout() => new(Console.OpenStandardOutput());
}

/// <summary>
/// One alert per line on stdout for log shippers (Fluent Bit, Vector, Promtail): in Elastic Common Schema by default, or
/// as stored in FIM_ALERTS. The manager's own logs go to stderr, so stdout holds nothing but alerts.
/// </summary>
public sealed class StdoutAlertSink(IOptions<SinkOptions> options, AlertOutput output) : IAlertSink
{
    private readonly StdoutSinkOptions _options = options.Value.Stdout;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string Name => "stdout";
    public bool Enabled => _options.Enabled;
    public string Consumer => _options.Consumer;
    public TimeSpan AckWait => TimeSpan.FromSeconds(30);
    public int MaxDeliver => 5;

    public TimeSpan RetryDelay(ulong delivered) => TimeSpan.FromSeconds(1);

    public async Task<SinkResult> DeliverAsync(Alert alert, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        if (alert.Level < _options.MinLevel)
        {
            return SinkResult.Skipped;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await output.Stream.WriteAsync(_options.Format == StdoutFormats.Ecs ? EcsAlert.ToUtf8(alert) : json, cancellationToken);
            output.Stream.WriteByte((byte)'\n');
            await output.Stream.FlushAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
        return SinkResult.Delivered;
    }
}
