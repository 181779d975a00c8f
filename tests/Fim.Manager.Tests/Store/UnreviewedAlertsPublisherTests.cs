using Fim.Contracts;
using Fim.Manager.Options;
using Fim.Manager.Store;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace Fim.Manager.Tests.Store;

/// <summary>The per-agent counts of unreviewed high-level alerts in KV fim-unreviewed-alerts, from a real store into a real bucket.</summary>
public sealed class UnreviewedAlertsPublisherTests(NatsFixture f) : IClassFixture<NatsFixture>
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task Each_agents_key_follows_its_unreviewed_high_alerts_and_is_written_only_on_change()
    {
        var dir = Directory.CreateTempSubdirectory("fim-unreviewed-");
        await using var store = new SqliteAlertStore(Path.Combine(dir.FullName, "alerts.db"));
        await using var connector = new Nats.NatsConnector(MsOptions.Create(new NatsOptions { Url = f.Server.Url }), NullLoggerFactory.Instance);
        var publisher = new UnreviewedAlertsPublisher(store, MsOptions.Create(new StoreOptions()), MsOptions.Create(new PipelineOptions()), connector,
            TimeProvider.System, NullLogger<UnreviewedAlertsPublisher>.Instance);
        try
        {
            var (a, b, c) = (StoreTestAlerts.Agent("web"), StoreTestAlerts.Agent("db"), StoreTestAlerts.Agent("quiet"));
            var now = DateTimeOffset.UtcNow;
            var highOfA = new[] { StoreTestAlerts.Stored(a, "/etc/passwd", now.AddDays(-3), level: 12), StoreTestAlerts.Stored(a, "/etc/shadow", now.AddHours(-1), level: 10),
                StoreTestAlerts.Stored(a, "/usr/bin/ls", now.AddMinutes(-5), level: 15) };
            await store.InsertAsync([.. highOfA, StoreTestAlerts.Stored(a, "/tmp/x", now, level: 9), StoreTestAlerts.Stored(b, "/etc/hosts", now, level: 11),
                StoreTestAlerts.Stored(c, "/var/log/x", now, level: 3)], Ct);

            Assert.Equal(2, await publisher.PublishAsync(Ct));
            var kv = await new NatsKVContext(f.Client.Js).GetStoreAsync(Subjects.UnreviewedAlertsBucket);
            Assert.Equal((3L, UnreviewedAlerts.HighLevel), await CountAsync(kv, a));
            Assert.Equal((1L, UnreviewedAlerts.HighLevel), await CountAsync(kv, b));
            Assert.Null(await CountAsync(kv, c)); // only level 3: no key

            // Nothing changed: nothing written (a restarted manager reads the bucket first and writes nothing either).
            Assert.Equal(0, await publisher.PublishAsync(Ct));
            var restarted = new UnreviewedAlertsPublisher(store, MsOptions.Create(new StoreOptions()), MsOptions.Create(new PipelineOptions()), connector,
                TimeProvider.System, NullLogger<UnreviewedAlertsPublisher>.Instance);
            Assert.Equal(0, await restarted.PublishAsync(Ct));

            // Reviews lower the count; one set back to new counts again; none left deletes the key.
            var reviews = (IAlertReviews)store;
            await reviews.ReviewAsync([highOfA[0].AlertId, highOfA[1].AlertId], new StoredReview(ReviewStates.Expected, "alice", Micros.From(now), "patch day"), Ct);
            Assert.Equal(1, await publisher.PublishAsync(Ct));
            Assert.Equal((1L, UnreviewedAlerts.HighLevel), await CountAsync(kv, a));
            await reviews.ReviewAsync([highOfA[1].AlertId], new StoredReview(ReviewStates.New, "bob", Micros.From(now), null), Ct);
            await publisher.PublishAsync(Ct);
            Assert.Equal((2L, UnreviewedAlerts.HighLevel), await CountAsync(kv, a));
            await reviews.ReviewAsync([.. highOfA.Select(h => h.AlertId)], new StoredReview(ReviewStates.Incident, "carol", Micros.From(now), "INC-7"), Ct);
            Assert.Equal(1, await publisher.PublishAsync(Ct));
            Assert.Null(await CountAsync(kv, a));
            Assert.Equal((1L, UnreviewedAlerts.HighLevel), await CountAsync(kv, b));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task<(long, int)?> CountAsync(INatsKVStore kv, string agent)
    {
        var entry = await kv.TryGetEntryAsync<byte[]>(agent, serializer: NatsRawSerializer<byte[]>.Default);
        return entry.Success && entry.Value.Value is { } data && ContractJson.ReadUnreviewedAlerts(data) is { } u ? (u.Count, u.MinLevel) : null;
    }
}
