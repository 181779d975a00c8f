using System.Text;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Pipeline;
using Fim.Manager.Tests.Support;

namespace Fim.Manager.Tests;

public sealed class WireFormatTests
{
    [Theory]
    [InlineData("""{"stream":"FIM_ALERTS","seq":42}""", 42UL, false, null)]
    [InlineData("""{"stream":"FIM_ALERTS","seq":42,"duplicate":true}""", 42UL, true, null)]
    [InlineData("""{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"S"}""", 0UL, false, "maximum messages exceeded")]
    [InlineData("""{"domain":"hub","stream":"S","seq":7}""", 7UL, false, null)]
    [InlineData("not json", 0UL, false, "unreadable answer")]
    [InlineData("", 0UL, false, "empty answer")]
    public void PubAck_answers_are_read(string json, ulong seq, bool duplicate, string? error)
    {
        var ack = JetStreamPublisher.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Equal(seq, ack.Sequence);
        Assert.Equal(duplicate, ack.Duplicate);
        if (error is null)
        {
            Assert.True(ack.Stored);
        }
        else
        {
            Assert.False(ack.Stored);
            Assert.StartsWith(error, ack.Error);
        }
    }

    [Theory]
    [InlineData(1UL, 200)]
    [InlineData(2UL, 400)]
    [InlineData(3UL, 800)]
    [InlineData(4UL, 1000)]
    [InlineData(50UL, 1000)]
    public void Nak_delay_doubles_per_delivery_up_to_the_cap(ulong delivered, int milliseconds)
    {
        var settler = new EventSettler(Microsoft.Extensions.Options.Options.Create(new Options.PipelineOptions
        {
            NakDelay = TimeSpan.FromMilliseconds(200),
            MaxNakDelay = TimeSpan.FromSeconds(1),
        }), new Telemetry.ManagerMetrics(), Microsoft.Extensions.Logging.Abstractions.NullLogger<EventSettler>.Instance);

        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), settler.NakDelay(delivered));
    }
}
