namespace Fim.Manager.Pipeline;

/// <summary>
/// How often JetStream has delivered a message, read from its ack subject: NATS.Net's full metadata splits the subject
/// into a dozen strings, which every event would pay for. The subject is
/// <c>$JS.ACK.&lt;stream&gt;.&lt;consumer&gt;.&lt;delivered&gt;.&lt;sseq&gt;.&lt;cseq&gt;.&lt;ts&gt;.&lt;pending&gt;</c>, or on newer servers
/// the same with domain and account hash after <c>ACK</c> and a random token at the end.
/// </summary>
public static class AckSubject
{
    /// <summary>The delivery count (1 for a first delivery); 1 as well when the subject is not an ack subject.</summary>
    public static ulong Delivered(string? replyTo)
    {
        if (replyTo is null || !replyTo.StartsWith("$JS.ACK.", StringComparison.Ordinal))
        {
            return 1;
        }
        var span = replyTo.AsSpan();
        var index = span.Count('.') switch
        {
            8 => 4,
            >= 10 => 6,
            _ => -1,
        };
        if (index < 0)
        {
            return 1;
        }
        foreach (var range in span.Split('.'))
        {
            if (index-- == 0)
            {
                return ulong.TryParse(span[range], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;
            }
        }
        return 1;
    }
}
