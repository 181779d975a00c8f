using System.Text;
using Fim.Contracts;
using Fim.Manager.Nats;
using Fim.Manager.Pipeline;
using Fim.Manager.Tests.Support;

namespace Fim.Manager.Tests;

public sealed class WireFormatTests
{
    [Theory]
    [InlineData("""{"stream":"FIM_ALERTS","seq":42}""", 42UL, false, null, 0)]
    [InlineData("""{"stream":"FIM_ALERTS","seq":42,"duplicate":true}""", 42UL, true, null, 0)]
    [InlineData("""{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"S"}""", 0UL, false, "maximum messages exceeded", 10077)]
    [InlineData("""{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"},"stream":"KV_fim-event-ids"}""", 0UL, false, "wrong last sequence", 10071)]
    [InlineData("""{"domain":"hub","stream":"S","seq":7}""", 7UL, false, null, 0)]
    [InlineData("not json", 0UL, false, "unreadable answer", 0)]
    [InlineData("", 0UL, false, "empty answer", 0)]
    public void PubAck_answers_are_read(string json, ulong seq, bool duplicate, string? error, int errorCode)
    {
        var ack = JetStreamPublisher.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Equal(seq, ack.Sequence);
        Assert.Equal(duplicate, ack.Duplicate);
        Assert.Equal(errorCode, ack.ErrorCode);
        Assert.Equal(errorCode == 10071, Enrollment.EventIdClaims.IsTaken(ack));
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
