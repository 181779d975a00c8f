using System.Diagnostics;
using System.Globalization;
using Fim.Contracts;
using Fim.Manager.Store;
using Fim.Testing;
using Npgsql;

/// <summary>
/// The whole indexer with real processes (--indexer N): N alerts published to FIM_ALERTS on a real nats-server while no
/// manager runs, then `managers` fim-manager processes (PostgreSQL store, default settings otherwise) index the backlog.
/// The rate is over the time from the first row stored to the last, so it holds what the store bench leaves out: the
/// JetStream consume, each alert's JSON read, and an ack per alert. Start-up (JIT, migrations, the consumer) is not in it.
/// </summary>
internal static class IndexerRun
{
    public static async Task<double> RunAsync(string connectionString, List<StoredAlert> rows, int managers)
    {
        await using var nats = await NatsServer.StartAsync();
        var oidc = await OidcProvider.SharedAsync();
        var env = oidc.ManagerSettings(browserLogin: false).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value ?? "");
        env["Fim__Nats__Url"] = nats.Url;
        env["Fim__Api__Address"] = "127.0.0.1";
        env["Fim__Store__Backend"] = "postgres";
        env["Fim__Store__ConnectionString"] = connectionString;
        env["Fim__Sinks__Stdout__Enabled"] = "false";
        ChildProcess Start() => ChildProcess.Dotnet(Programs.Manager, [], new Dictionary<string, string>(env)
        {
            ["Fim__Api__HttpPort"] = NatsServer.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Fim__Api__GrpcPort"] = NatsServer.FreePort().ToString(CultureInfo.InvariantCulture),
        });

        // One manager creates the streams, the schema and the indexer's durable consumer, then stops: the backlog waits.
        await using (var client = await NatsTestClient.ConnectAsync(nats.Url))
        {
            using (var first = Start())
            {
                await Eventually.TrueAsync(async () =>
                {
                    try
                    {
                        await client.Js.GetConsumerAsync(Subjects.AlertsStream, Subjects.IndexerConsumer);
                        return true;
                    }
                    catch (NATS.Client.JetStream.NatsJSApiException)
                    {
                        return false;
                    }
                }, "the indexer's consumer created", TimeSpan.FromSeconds(120));
                first.Kill();
                await first.WaitForExitAsync();
            }
            foreach (var chunk in rows.Chunk(256))
            {
                await Task.WhenAll(chunk.Select(a => client.PublishRawAsync(Subjects.Alerts(a.Level, a.AgentId), a.Json, a.AlertId)));
            }
        }
        Console.WriteLine($"indexer: {rows.Count:N0} alerts published to {Subjects.AlertsStream}; starting {managers} manager(s)");

        var processes = Enumerable.Range(0, managers).Select(_ => Start()).ToList();
        await using var watch = await NatsTestClient.ConnectAsync(nats.Url);
        try
        {
            // Progress from the indexer's consumer (an alert is acked only after its batch committed), not count(*),
            // which would scan the table under the indexer every poll.
            long acked = 0, firstAcked = 0;
            Stopwatch? clock = null;
            var deadline = Stopwatch.StartNew();
            while (acked < rows.Count)
            {
                if (deadline.Elapsed > TimeSpan.FromMinutes(10))
                {
                    throw new TimeoutException($"indexer: {acked:N0} of {rows.Count:N0} acked after 10 minutes");
                }
                await Task.Delay(50);
                var info = (await watch.Js.GetConsumerAsync(Subjects.AlertsStream, Subjects.IndexerConsumer)).Info;
                acked = rows.Count - (long)info.NumPending - info.NumAckPending;
                if (clock is null && acked > 0)
                {
                    (clock, firstAcked) = (Stopwatch.StartNew(), acked);
                }
            }
            var seconds = clock!.Elapsed.TotalSeconds;
            var rate = (acked - firstAcked) / seconds;
            var stored = await CountAsync(connectionString);
            var cpu = processes.Sum(p => p.CpuTime.TotalSeconds);
            Console.WriteLine($"indexer: {managers} manager(s) stored {acked - firstAcked:N0} alerts in {seconds:N1} s: {rate:N0}/s; "
                + $"{stored:N0} rows in the store (managers' CPU {cpu:N1} s in all, start-up included)");
            return stored == rows.Count ? rate : throw new InvalidOperationException($"indexer: {stored:N0} rows stored of {rows.Count:N0}");
        }
        finally
        {
            foreach (var p in processes)
            {
                p.Dispose();
            }
        }
    }

    private static async Task<long> CountAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return (long)(await new NpgsqlCommand("SELECT count(*) FROM alerts", connection).ExecuteScalarAsync())!;
    }
}
