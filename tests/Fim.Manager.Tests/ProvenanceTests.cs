using Fim.Contracts;
using Fim.Manager.Enrollment;
using Fim.Manager.Tests.Support;
using Fim.Nats.Identity;
using Fim.Testing;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using NATS.NKeys;

namespace Fim.Manager.Tests;

/// <summary>
/// Events that do not prove their origin: a reused id with other content, an unsigned event and one signed by another
/// agent's key each become a dead letter and an alert, and the genuine event still becomes its alert.
/// </summary>
public sealed class ProvenanceTests : IAsyncLifetime
{
    private readonly NatsJwtAccounts _accounts = new();
    private NatsServer _server = null!;
    private TestManager _manager = null!;
    private NatsTestClient _admin = null!;

    public async Task InitializeAsync()
    {
        _server = await NatsServer.StartAsync(_accounts.ServerConfig());
        _manager = await TestManager.StartAsync(_server.Url, _accounts.WriteEnrollmentFiles(_server.WorkDir));
        await Eventually.TrueAsync(() => _manager.Services.GetRequiredService<EnrollmentResponder>().Listening, "the manager answers enrollment requests");
        // Someone with more rights than an agent (a leaked admin credential): the server lets it publish anywhere.
        var creds = _accounts.WriteUserCreds(Path.Combine(_server.WorkDir, "admin.creds"), "admin");
        _admin = await NatsTestClient.ConnectAsync(_server.Url, o => o with { AuthOpts = NatsAuthOpts.Default with { CredsFile = creds } });
    }

    public async Task DisposeAsync()
    {
        await _admin.DisposeAsync();
        await _manager.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Forged_events_become_dead_letters_and_alerts_and_the_genuine_event_still_alerts()
    {
        var admin = _manager.Services.GetRequiredService<EnrollmentAdmin>();
        var (_, text) = await admin.CreateTokenAsync(2, TimeSpan.FromHours(1), "test", default);
        var agentKey = KeyPair.CreatePair(PrefixByte.User);
        var otherKey = KeyPair.CreatePair(PrefixByte.User);
        var client = new Fim.Nats.NatsClientOptions { Url = _server.Url, RequestTimeout = TimeSpan.FromSeconds(20) };
        await EnrollmentClient.EnrollAsync(client, JoinToken.Parse(text), "victim", agentKey, null, default);
        await EnrollmentClient.EnrollAsync(client, JoinToken.Parse(text), "attacker", otherKey, null, default);
        var identities = _manager.Services.GetRequiredService<IdentityDirectory>();
        await Eventually.TrueAsync(() => identities.TryGet("victim", out _), "the victim's identity is known to the intake");

        var genuine = TestEvents.Event("victim", path: "/etc/shadow");
        // The attacker guesses the genuine event's id and publishes first, unsigned, with a harmless path.
        var guessed = TestEvents.Event("victim", path: "/tmp/harmless", eventId: genuine.EventId);
        await PublishAsync(guessed, null);
        await PublishAsync(genuine, agentKey);
        await PublishAsync(TestEvents.Event("victim", path: "/etc/hosts"), otherKey);
        // The victim's key over other content with the genuine id (a replay or a compromised agent reusing ids).
        await Eventually.TrueAsync(async () => (await _admin.AlertsAsync("victim")).Any(a => a.EventId == genuine.EventId && a.Path == "/etc/shadow"),
            "the genuine event's alert");
        await PublishAsync(TestEvents.Event("victim", path: "/etc/group", eventId: genuine.EventId), agentKey);

        await Eventually.TrueAsync(async () => (await _admin.DeadLettersAsync(EventProvenance.Unsigned)).Count == 1, "one unsigned dead letter");
        await Eventually.TrueAsync(async () => (await _admin.DeadLettersAsync(EventProvenance.BadSignature)).Count == 1, "one bad-signature dead letter");
        await Eventually.TrueAsync(async () => (await _admin.DeadLettersAsync(EventProvenance.EventIdReuse)).Count == 1, "one event-id-reuse dead letter");
        await Eventually.TrueAsync(async () => (await _admin.AlertsAsync("victim")).Count(a => a.Rule.Id == EventProvenance.ForgedRuleId) == 2, "two forged-event alerts");
        await Eventually.TrueAsync(async () => (await _admin.AlertsAsync("victim")).Count(a => a.Rule.Id == EventProvenance.ReuseRuleId) == 1, "one event-id-reuse alert");

        var alerts = await _admin.AlertsAsync("victim");
        var normal = alerts.Where(a => a.Rule.Id is not (EventProvenance.ForgedRuleId or EventProvenance.ReuseRuleId)).ToList();
        // The unsigned and foreign-signed events give no alert of their own; the reuse does, besides the reuse alert.
        Assert.Equal(["/etc/group", "/etc/shadow"], normal.Select(a => a.Path).Order());
        Assert.All(alerts.Where(a => a.Rule.Id is EventProvenance.ForgedRuleId or EventProvenance.ReuseRuleId), a => Assert.Equal(EventProvenance.AlertLevel, a.Level));
        var reuse = (await _admin.DeadLettersAsync(EventProvenance.EventIdReuse)).Single();
        Assert.Contains("/etc/group", reuse.Text);
    }

    [Fact]
    public async Task A_forged_event_with_a_guessed_id_before_the_genuine_one_of_an_agent_that_never_enrolled_does_not_hide_it()
    {
        // A static (nats-authz) agent: no enrolled key, unsigned events accepted, and no setting turned on.
        var agent = "static-" + Guid.NewGuid().ToString("N")[..6];
        var genuine = TestEvents.Event(agent, path: "/etc/shadow");
        var forged = TestEvents.Event(agent, path: "/etc/motd", eventId: genuine.EventId);
        await PublishAsync(forged, null);
        await Eventually.TrueAsync(async () => (await _admin.AlertsAsync(agent)).Any(a => a.Path == "/etc/motd"), "the forged event, first, is judged");
        await PublishAsync(genuine, null);

        await Eventually.TrueAsync(async () => (await _admin.AlertsAsync(agent)).Any(a => a.EventId == genuine.EventId && a.Path == "/etc/shadow"
            && a.Rule.Id != EventProvenance.ReuseRuleId), "the genuine event's own alert");
        await Eventually.TrueAsync(async () => (await _admin.AlertsAsync(agent)).Count(a => a.Rule.Id == EventProvenance.ReuseRuleId) == 1, "one event-id-reuse alert");
        var reuse = Assert.Single(await _admin.DeadLettersAsync(EventProvenance.EventIdReuse));
        Assert.Contains("/etc/shadow", reuse.Text);
        var alert = (await _admin.AlertsAsync(agent)).Single(a => a.Rule.Id == EventProvenance.ReuseRuleId);
        Assert.Equal(EventProvenance.AlertLevel, alert.Level);
        Assert.Equal("/etc/shadow", alert.Path);

        // The same content again (the agent's retry) is a duplicate at JetStream's level, not a second conflict.
        await Assert.ThrowsAsync<NATS.Client.JetStream.NatsJSDuplicateMessageException>(() => PublishAsync(genuine, null));
        await PublishAsync(TestEvents.Event(agent, path: "/etc/hosts"), null);
        await Eventually.TrueAsync(async () => (await _admin.AlertsAsync(agent)).Any(a => a.Path == "/etc/hosts"), "a later event of the agent");
        Assert.Single(await _admin.DeadLettersAsync(EventProvenance.EventIdReuse));
    }

    private async Task PublishAsync(FileEvent e, KeyPair? key)
    {
        var payload = ContractJson.ToUtf8(e);
        var input = EventContent.SigningInput(payload);
        var headers = new NatsHeaders();
        if (key is not null)
        {
            headers[EventContent.SignatureHeader] = new EventSigner(key).Sign(input);
        }
        await _admin.PublishRawAsync(Subjects.Events(e.AgentId), payload, EventContent.MessageId(e.EventId, EventContent.Digest(input)), headers);
    }
}
