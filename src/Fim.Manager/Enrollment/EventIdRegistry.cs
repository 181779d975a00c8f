using System.Security.Cryptography;
using System.Text;
using Fim.Contracts;
using NATS.Client.KeyValueStore;

namespace Fim.Manager.Enrollment;

/// <summary>
/// Remembers, per event id, the digest of the content first seen with it (KV fim-event-ids, shared by all managers,
/// entries expire after the event id window). The same id with the same digest is a redelivery; with another digest
/// it is a reuse, which must never be taken for a duplicate.
/// </summary>
public sealed class EventIdRegistry(EnrollmentBuckets buckets)
{
    /// <summary>Null when the id is new or came again with the same content; otherwise the digest it was first seen with.</summary>
    public async ValueTask<string?> ConflictingDigestAsync(string eventId, string digest, CancellationToken ct)
    {
        var store = await buckets.EventIdsAsync(ct);
        // Event ids may hold characters KV keys cannot; a hash of the id is a safe key.
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventId)));
        var value = Encoding.ASCII.GetBytes(digest);
        try
        {
            await store.CreateAsync(key, value, EnrollmentBuckets.Raw, ct);
            return null;
        }
        catch (NatsKVCreateException)
        {
        }
        try
        {
            var first = await store.GetEntryAsync(key, serializer: EnrollmentBuckets.Raw, cancellationToken: ct);
            var firstDigest = first.Value is { } bytes ? Encoding.ASCII.GetString(bytes) : "";
            return firstDigest == digest ? null : firstDigest;
        }
        catch (Exception e) when (e is NatsKVKeyNotFoundException or NatsKVKeyDeletedException)
        {
            // Expired between the two calls: the window is over, so the id is new again.
            return null;
        }
    }
}
