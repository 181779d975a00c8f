using Fim.Contracts;
using Fim.Nats.Identity;
using Microsoft.Extensions.Options;
using NATS.Client.Core;

namespace Fim.Manager.Enrollment;

/// <summary>Why an event's origin is not proven, the dead-letter reason for it, and the alert that reports it.</summary>
public sealed record ProvenanceProblem(string Reason, string Detail, Alert Alert);

/// <summary>The content digest of an event that passed, or the problem of one that did not.</summary>
public readonly record struct ProvenanceResult(string Digest, ProvenanceProblem? Problem);

/// <summary>
/// Proves where an event comes from before it is judged: an enrolled agent's event must carry a signature by the key in
/// its identity record over <see cref="EventContent.SigningInput"/>; and names the problem of an event id that
/// <see cref="EventIdClaims"/> found already seen with other content, for every agent, enrolled or not. Either failure is
/// a dead letter plus a level-12 alert naming it; the genuine event is not affected: a reused id is still judged, since
/// a forger who guessed the id may have come first.
/// </summary>
public sealed class EventProvenance(IdentityDirectory identities, IOptions<EnrollmentOptions> options)
{
    public const string Unsigned = "unsigned";
    public const string BadSignature = "bad-signature";
    public const string EventIdReuse = "event-id-reuse";
    public const string ForgedRuleId = "fim-forged-event";
    public const string ReuseRuleId = "fim-event-id-reuse";
    public const int AlertLevel = 12;

    public static IReadOnlyList<string> Reasons { get; } = [Unsigned, BadSignature, EventIdReuse];

    public ProvenanceResult Check(FileEvent e, ReadOnlyMemory<byte> payload, NatsHeaders? headers)
    {
        byte[] input;
        try
        {
            input = EventContent.SigningInput(payload.Span);
        }
        catch (FormatException ex)
        {
            return Forged(e, "", BadSignature, $"content has no canonical form: {ex.Message}");
        }
        var digest = EventContent.Digest(input);
        string? signature = null;
        if (headers is not null && headers.TryGetLastValue(EventContent.SignatureHeader, out var value))
        {
            signature = value.ToString();
        }
        var enrolled = identities.TryGet(e.AgentId, out var identity);
        if (enrolled)
        {
            if (signature is null)
            {
                return Forged(e, digest, Unsigned, $"agent {e.AgentId} is enrolled (key {identity.PublicKey}) but the event carries no {EventContent.SignatureHeader}");
            }
            if (!EventSigner.Verify(identity.PublicKey, input, signature))
            {
                return Forged(e, digest, BadSignature, $"the signature does not verify against {e.AgentId}'s enrolled key {identity.PublicKey} (another key, or altered content)");
            }
        }
        // Ingest events are published by managers themselves (only they may use those subjects), never by an agent.
        else if (signature is null && options.Value.RequireSignatures && !Subjects.IsIngestAgentId(e.AgentId))
        {
            return Forged(e, digest, Unsigned, $"agent {e.AgentId} is not enrolled and the event is unsigned ({EnrollmentOptions.Section}:RequireSignatures)");
        }
        return new ProvenanceResult(digest, null);
    }

    /// <summary>The problem of an event whose id was first claimed with content digest <paramref name="firstDigest"/>.</summary>
    public static ProvenanceProblem Reuse(FileEvent e, string digest, string firstDigest)
    {
        var alert = AlertFor(e, digest, ReuseRuleId, "Event id reused with different content: a forged or replayed event");
        alert.Tags.Add("first-digest:" + firstDigest);
        return new ProvenanceProblem(EventIdReuse, $"event id {e.EventId} was first seen with content digest {firstDigest}, now {digest}", alert);
    }

    private static ProvenanceResult Forged(FileEvent e, string digest, string reason, string detail) =>
        new(digest, new ProvenanceProblem(reason, detail, AlertFor(e, digest, ForgedRuleId, $"Event whose origin is not proven ({reason}): the file data in it is not trustworthy")));

    private static Alert AlertFor(FileEvent e, string digest, string ruleId, string description)
    {
        var alert = Alert.For(e, new RuleRef { Id = ruleId, Level = AlertLevel, Description = description }, AlertLevel, [], ["event-provenance"]);
        // Its own id: it must not collide with (and so shadow) the alert of the genuine event with the same event id.
        alert.AlertId = EventContent.MessageId($"{e.EventId}/{ruleId}", digest);
        return alert;
    }
}
