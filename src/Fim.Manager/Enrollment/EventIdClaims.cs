using System.Security.Cryptography;
using System.Text;
using Fim.Contracts;
using Fim.Manager.Nats;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Enrollment;

/// <summary>
/// Claims each event id for the digest of the content first seen with it (KV fim-event-ids, shared by all managers,
/// entries expire after the event id window). The same id with the same digest is a redelivery; with another digest it
/// is a reuse, which must never be taken for a duplicate. The claim is a KV create written as an asynchronous
/// JetStream publish beside the event's alert, so no event waits for a KV round trip; only a refused claim (rare: a
/// redelivery or a reuse) reads the first digest back.
/// </summary>
public sealed class EventIdClaims(EnrollmentBuckets buckets)
{
    private const string ExpectedLastSubjectSequence = "Nats-Expected-Last-Subject-Sequence";
    /// <summary>JetStream's "wrong last sequence": the key already holds a value, so the id was claimed before.</summary>
    private const int WrongLastSequence = 10071;

    public async ValueTask ClaimAsync(JetStreamPublisher publisher, string eventId, string digest, IPublishCallback callback, CancellationToken ct)
    {
        await buckets.EventIdsAsync(ct);
        // Expected last sequence 0 is what KV's create sends: stored only while the key holds nothing (never set, or expired).
        var headers = new NatsHeaders { [ExpectedLastSubjectSequence] = "0" };
        await publisher.PublishAsync($"$KV.{Subjects.EventIdsBucket}.{Key(eventId)}", Encoding.ASCII.GetBytes(digest), null, headers, callback, ct);
    }

    public static bool IsTaken(PublishAck ack) => ack.ErrorCode == WrongLastSequence;

    /// <summary>The digest an id was first claimed with, or null when the claim has expired meanwhile (the id is new again).</summary>
    public async ValueTask<string?> FirstDigestAsync(string eventId, CancellationToken ct)
    {
        var store = await buckets.EventIdsAsync(ct);
        try
        {
            var first = await store.GetEntryAsync(Key(eventId), serializer: EnrollmentBuckets.Raw, cancellationToken: ct);
            return first.Value is { } bytes ? Encoding.ASCII.GetString(bytes) : "";
        }
        catch (Exception e) when (e is NatsKVKeyNotFoundException or NatsKVKeyDeletedException)
        {
            return null;
        }
    }

    // Event ids may hold characters KV keys cannot; a hash of the id is a safe key.
    private static string Key(string eventId) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventId)));
}
