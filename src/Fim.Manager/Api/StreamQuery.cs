using System.Runtime.CompilerServices;
using Fim.Manager.Nats;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fim.Manager.Api;

/// <summary>
/// Reads a stream from a start time through a filtered ordered consumer (an ephemeral consumer the server drops
/// when idle), until the messages present when the read began are exhausted. Managers keep no copies: every query reads
/// the stream.
/// </summary>
public sealed class StreamQuery(NatsConnector nats)
{
    private const int FetchBatch = 500;
    private const int MaxEmptyWaits = 5;
    private static readonly TimeSpan EmptyFetchWait = TimeSpan.FromSeconds(1);

    public async IAsyncEnumerable<INatsJSMsg<byte[]>> ReadAsync(string stream, string filterSubject, DateTimeOffset? since,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var js = await nats.JetStreamAsync(cancellationToken);
        INatsJSStream info;
        try
        {
            info = await js.GetStreamAsync(stream, cancellationToken: cancellationToken);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            yield break;
        }
        var last = info.Info.State.LastSeq;
        if (info.Info.State.Messages == 0)
        {
            yield break;
        }
        // A plain ephemeral consumer rather than NATS.Net's ordered consumer: the latter sends "filter_subjects",
        // which nats-server 2.9 ignores, so it would return every subject.
        var config = new ConsumerConfig
        {
            Name = "fim-query-" + Guid.NewGuid().ToString("N")[..12],
            FilterSubject = filterSubject,
            DeliverPolicy = since is null ? ConsumerConfigDeliverPolicy.All : ConsumerConfigDeliverPolicy.ByStartTime,
            AckPolicy = ConsumerConfigAckPolicy.None,
            InactiveThreshold = TimeSpan.FromSeconds(30),
            MemStorage = true,
            NumReplicas = 1,
        };
        if (since is { } start)
        {
            config.OptStartTime = start;
        }
        var consumer = await js.CreateOrUpdateConsumerAsync(stream, config, cancellationToken);
        try
        {
            var emptyWaits = 0;
            var wait = false;
            while (true)
            {
                var got = 0;
                var opts = new NatsJSFetchOpts { MaxMsgs = FetchBatch, Expires = wait ? EmptyFetchWait : null };
                var batch = wait
                    ? consumer.FetchAsync(opts, NatsRawSerializer<byte[]>.Default, cancellationToken)
                    : consumer.FetchNoWaitAsync(opts, NatsRawSerializer<byte[]>.Default, cancellationToken);
                await foreach (var msg in batch)
                {
                    got++;
                    yield return msg;
                    // Not the message's own NumPending: nats-server 2.9 can report 0 there for a filtered consumer with
                    // matches still to come (a maintenance summary missed an upgrade's last changes that way).
                    if (msg.Metadata is not { } meta || meta.Sequence.Stream >= last)
                    {
                        yield break;
                    }
                }
                if (got > 0)
                {
                    (wait, emptyWaits) = (false, 0);
                    continue;
                }
                // A no-wait fetch may answer "no messages" while the server is still skipping to the filter's next match:
                // the consumer's count, computed afresh, says whether the read is over.
                await consumer.RefreshAsync(cancellationToken);
                if (consumer.Info.NumPending == 0 || consumer.Info.Delivered.StreamSeq >= last || ++emptyWaits > MaxEmptyWaits)
                {
                    yield break;
                }
                wait = true;
            }
        }
        finally
        {
            await js.DeleteConsumerAsync(stream, config.Name, CancellationToken.None).AsTask().ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Messages stored from now on under <paramref name="filterSubject"/>, until cancelled (a live query).
    /// <paramref name="watching"/> runs once the consumer exists: from then on nothing stored is missed.
    /// </summary>
    public async IAsyncEnumerable<INatsJSMsg<byte[]>> WatchAsync(string stream, string filterSubject, Func<Task> watching,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var js = await nats.JetStreamAsync(cancellationToken);
        var config = new ConsumerConfig
        {
            Name = "fim-watch-" + Guid.NewGuid().ToString("N")[..12],
            FilterSubject = filterSubject,
            DeliverPolicy = ConsumerConfigDeliverPolicy.New,
            AckPolicy = ConsumerConfigAckPolicy.None,
            InactiveThreshold = TimeSpan.FromSeconds(30),
            MemStorage = true,
            NumReplicas = 1,
        };
        var consumer = await js.CreateOrUpdateConsumerAsync(stream, config, cancellationToken);
        try
        {
            await watching();
            await foreach (var msg in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, cancellationToken: cancellationToken))
            {
                yield return msg;
            }
        }
        finally
        {
            await js.DeleteConsumerAsync(stream, config.Name, CancellationToken.None).AsTask().ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
