using Fim.Contracts;
using Fim.Manager.Pipeline;
using Fim.Manager.Tests.Support;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fim.Manager.Tests;

public sealed class AckSubjectTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    [Fact]
    public async Task Delivery_count_read_from_the_ack_subject_agrees_with_the_real_servers_metadata()
    {
        await nats.Client.EnsureEventsStreamAsync();
        await nats.Client.PublishEventAsync(TestEvents.Event("agent-ack", "/etc/hosts"));
        var consumer = await nats.Client.Js.CreateOrUpdateConsumerAsync(Subjects.EventsStream, new ConsumerConfig("ack-subject")
        {
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            FilterSubject = Subjects.Events("agent-ack"),
        });

        var seen = new List<(ulong FromSubject, ulong FromMetadata)>();
        using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
        await foreach (var msg in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, cancellationToken: deadline.Token))
        {
            seen.Add((AckSubject.Delivered(msg.ReplyTo), msg.Metadata!.Value.NumDelivered));
            if (seen.Count == 3)
            {
                await msg.AckAsync(cancellationToken: deadline.Token);
                break;
            }
            await msg.NakAsync(cancellationToken: deadline.Token);
        }

        Assert.Equal([(1UL, 1UL), (2UL, 2UL), (3UL, 3UL)], seen);
    }

    [Theory]
    [InlineData("$JS.ACK.FIM_EVENTS.fim-managers.4.100.90.1700000000000000000.12", 4UL)]
    [InlineData("$JS.ACK.hub.ACCHASH.FIM_EVENTS.fim-managers.7.100.90.1700000000000000000.12.rAnD0m", 7UL)]
    [InlineData("$JS.ACK.FIM_EVENTS.fim-managers.x.100.90.1700000000000000000.12", 1UL)]
    [InlineData("$JS.ACK.too.short", 1UL)]
    [InlineData("_INBOX.abc", 1UL)]
    [InlineData(null, 1UL)]
    public void Delivery_count_from_both_subject_formats_and_1_for_anything_else(string? replyTo, ulong expected) =>
        Assert.Equal(expected, AckSubject.Delivered(replyTo));
}
