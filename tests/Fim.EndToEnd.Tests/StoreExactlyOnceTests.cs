using Fim.Contracts;
using Fim.Testing;
using Npgsql;

namespace Fim.EndToEnd.Tests;

/// <summary>
/// Issue 16 acceptance 2 with real processes: while alerts flow into FIM_ALERTS, the indexing manager is killed
/// (SIGKILL) and restarted, PostgreSQL is crashed (immediate stop) and restarted, and nats-server is stopped for 30 s;
/// afterwards the store holds exactly the alerts that went in, none twice.
/// </summary>
public sealed class StoreExactlyOnceTests
{
    private const int Alerts = 6000;

    [Fact]
    public async Task Killing_the_indexer_restarting_PostgreSQL_and_stopping_NATS_for_30_s_stores_every_alert_once()
    {
        await using var nats = await NatsServer.StartAsync();
        await using var pg = await PostgresServer.StartAsync();
        var connectionString = await pg.CreateDatabaseAsync("exactly_once");
        var oidc = await OidcProvider.SharedAsync();
        var env = oidc.ManagerSettings(browserLogin: false).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value ?? "");
        env["Fim__Nats__Url"] = nats.Url;
        env["Fim__Api__Address"] = "127.0.0.1";
        env["Fim__Store__Backend"] = "postgres";
        env["Fim__Store__ConnectionString"] = connectionString;
        env["Fim__Store__BatchSize"] = "500";
        env["Fim__Store__BatchDelay"] = "00:00:00.050";
        env["Fim__Store__AckWait"] = "00:00:05";
        env["Fim__Sinks__Stdout__Enabled"] = "false";
        ChildProcess StartManager()
        {
            var e = new Dictionary<string, string>(env)
            {
                ["Fim__Api__HttpPort"] = NatsServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Fim__Api__GrpcPort"] = NatsServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            return ChildProcess.Dotnet(Programs.Manager, [], e);
        }
        var manager = StartManager();
        try
        {
            await manager.AwaitLogAsync("into PostgreSQL", TimeSpan.FromSeconds(90));
            await using var client = await NatsTestClient.ConnectAsync(nats.Url);
            await Eventually.TrueAsync(async () =>
            {
                try
                {
                    await client.Js.GetStreamAsync(Subjects.AlertsStream);
                    return true;
                }
                catch (NATS.Client.JetStream.NatsJSApiException)
                {
                    return false;
                }
            }, "FIM_ALERTS created by the manager");

            var published = 0;
            var publisher = Task.Run(async () =>
            {
                var agent = "exactly-once";
                for (var i = 0; i < Alerts; i++)
                {
                    var alert = Alert.For(new FileEvent
                    {
                        EventId = $"{agent}:boot:{i}",
                        AgentId = agent,
                        Host = "h",
                        Path = $"/data/file-{i}",
                        Kind = "modified",
                        Source = "realtime",
                        ObservedAt = DateTimeOffset.UtcNow,
                    }, new RuleRef { Id = "550", Level = 7 }, 7, [], []);
                    var body = ContractJson.ToUtf8(alert);
                    while (true)
                    {
                        try
                        {
                            using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                            var ack = await client.PublishRawAsync(Subjects.Alerts(7, agent), body, alert.AlertId).WaitAsync(attempt.Token);
                            if (ack.Error is null)
                            {
                                break;
                            }
                        }
                        catch (Exception e) when (e is OperationCanceledException or NATS.Client.Core.NatsException or TimeoutException)
                        {
                        }
                        await Task.Delay(200);
                    }
                    Interlocked.Increment(ref published);
                    if (i % 10 == 0)
                    {
                        await Task.Delay(20);
                    }
                }
            });

            async Task<(long Rows, long Distinct)> TallyAsync()
            {
                try
                {
                    await using var connection = new NpgsqlConnection(connectionString);
                    await connection.OpenAsync();
                    await using var command = new NpgsqlCommand("SELECT count(*), count(DISTINCT alert_id) FROM alerts", connection);
                    await using var reader = await command.ExecuteReaderAsync();
                    await reader.ReadAsync();
                    return (reader.GetInt64(0), reader.GetInt64(1));
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
                {
                    return (-1, -1);
                }
            }

            // 1. Kill the indexing manager while batches are being written, and start another.
            await Eventually.TrueAsync(async () => (await TallyAsync()).Rows > 200, "the indexer writing", TimeSpan.FromSeconds(60));
            manager.Kill();
            await manager.WaitForExitAsync();
            manager.Dispose();
            manager = StartManager();
            await manager.AwaitLogAsync("into PostgreSQL", TimeSpan.FromSeconds(90));

            // 2. Crash PostgreSQL while alerts flow; start it again.
            var before = Volatile.Read(ref published);
            await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref published) > before + 200), "alerts flowing", TimeSpan.FromSeconds(60));
            await pg.StopAsync("immediate");
            await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref published) > before + 600), "alerts flowing while PostgreSQL is down", TimeSpan.FromSeconds(60));
            await pg.StartAsync();

            // 3. Stop nats-server for 30 s (same port and store), then start it again.
            await Eventually.TrueAsync(async () => (await TallyAsync()).Rows > before + 600, "the indexer back on PostgreSQL", TimeSpan.FromSeconds(90));
            await nats.StopAsync();
            await Task.Delay(TimeSpan.FromSeconds(30));
            await nats.StartAsync();

            await publisher.WaitAsync(TimeSpan.FromMinutes(3));
            await Eventually.TrueAsync(async () => (await TallyAsync()).Rows >= Alerts, $"{Alerts} alerts stored", TimeSpan.FromMinutes(3));
            // Nothing else arrives later: give redeliveries their ack wait, then count again.
            var stream = await client.Js.GetStreamAsync(Subjects.AlertsStream);
            // A publish retried across the NATS restart can be stored twice (the server's duplicate tracking did not
            // survive it, seen once in 6000): the stream may hold a copy, the store never does.
            Assert.True(stream.Info.State.Messages >= Alerts, $"{stream.Info.State.Messages} messages in {Subjects.AlertsStream}");
            await Task.Delay(TimeSpan.FromSeconds(6));
            var (rows, distinct) = await TallyAsync();
            Assert.True(rows == Alerts && distinct == Alerts, $"rows {rows}, distinct {distinct}, alerts in {Alerts}\n{manager.Stderr}");
        }
        finally
        {
            manager.Dispose();
        }
    }
}
