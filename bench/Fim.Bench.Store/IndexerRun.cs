using System.Diagnostics;
using System.Globalization;
using Fim.Contracts;
using Fim.Manager.Options;
using Fim.Manager.Store;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Npgsql;

/// <summary>
/// The whole indexer with real processes (--indexer N): N alerts published to FIM_ALERTS on a real nats-server while no
/// manager runs, then `managers` fim-manager processes (PostgreSQL store, default settings otherwise) index the backlog.
/// The rate is over the time from the first batch committed to the last (PostgreSQL's commit timestamps), so it holds what the store bench leaves out: the
/// JetStream consume, each alert's JSON read, and an ack per alert. Start-up (JIT, migrations, the consumer) is not in it.
/// Before the managers start, the floor of any indexer that takes one message per alert, on the same backlog and cores:
/// consume-and-ack alone, the bare COPY alone, and the two at once (nothing read, parsed or checked between them).
/// </summary>
internal static class IndexerRun
{
    public static async Task<double> RunAsync(string connectionString, List<StoredAlert> rows, int managers, Func<Task<Func<Task>>> prepareBareCopy)
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
        Console.WriteLine($"indexer: {rows.Count:N0} alerts published to {Subjects.AlertsStream}");
        await FloorAsync(nats, rows.Count, managers, prepareBareCopy);
        Console.WriteLine($"indexer: starting {managers} manager(s)");

        var processes = Enumerable.Range(0, managers).Select(_ => Start()).ToList();
        await using var watch = await NatsTestClient.ConnectAsync(nats.Url);
        try
        {
            // Done when the indexer's consumer has every alert acked (an alert is acked only after its batch committed).
            // Polled twice a second: consumer info counts the pending alerts over the stream's subjects, and polled every
            // 50 ms it cost nats-server more than the delivery itself (18 µs per alert instead of 8).
            long acked = 0;
            double managersCpu = 0, natsCpu = 0;
            var deadline = Stopwatch.StartNew();
            while (acked < rows.Count)
            {
                if (deadline.Elapsed > TimeSpan.FromMinutes(10))
                {
                    throw new TimeoutException($"indexer: {acked:N0} of {rows.Count:N0} acked after 10 minutes");
                }
                await Task.Delay(500);
                var info = (await watch.Js.GetConsumerAsync(Subjects.AlertsStream, Subjects.IndexerConsumer)).Info;
                var before = acked;
                acked = rows.Count - (long)info.NumPending - info.NumAckPending;
                if (before == 0 && acked > 0)
                {
                    (managersCpu, natsCpu) = (processes.Sum(p => p.CpuTime.TotalSeconds), nats.CpuTime.TotalSeconds);
                }
            }
            managersCpu = processes.Sum(p => p.CpuTime.TotalSeconds) - managersCpu;
            natsCpu = nats.CpuTime.TotalSeconds - natsCpu;
            var commits = await CommitsAsync(connectionString);
            var (stored, firstCommit, seconds) = (commits.Sum(c => c.Rows), commits[0].Rows, (commits[^1].At - commits[0].At).TotalSeconds);
            Console.WriteLine($"indexer: rate by fifth of the rows (JIT tiering and warm-up in the first): {string.Join(", ", Fifths(commits).Select(r => r.ToString("N0", CultureInfo.InvariantCulture) + "/s"))}");
            var rate = (stored - firstCommit) / seconds;
            Console.WriteLine($"indexer: {managers} manager(s) stored {stored - firstCommit:N0} alerts from the first commit to the last, {seconds:N1} s: "
                + $"{rate:N0}/s; {stored:N0} rows in the store; CPU per alert after the first commit seen: managers "
                + $"{managersCpu * 1e6 / (stored - firstCommit):N1} µs, nats-server {natsCpu * 1e6 / (stored - firstCommit):N1} µs");
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

    /// <summary>The floor: what NATS and PostgreSQL alone take for the backlog, each by itself and both at once.</summary>
    private static async Task FloorAsync(NatsServer nats, int count, int readers, Func<Task<Func<Task>>> prepareBareCopy)
    {
        await using var client = await NatsTestClient.ConnectAsync(nats.Url);
        var natsCpu = nats.CpuTime;
        var alone = await Timing.RateAsync(() => ConsumeAndAckAsync(client, "bench-floor-alone", count, readers), count);
        Console.WriteLine($"floor: consume and ack alone {alone:N0}/s (nats-server CPU {(nats.CpuTime - natsCpu).TotalSeconds:N1} s)");
        var copy = await Timing.RateAsync(await prepareBareCopy(), count);
        Console.WriteLine($"floor: bare COPY alone {copy:N0}/s");
        var bareCopy = await prepareBareCopy();
        natsCpu = nats.CpuTime;
        var both = await Timing.RateAsync(() => Task.WhenAll(ConsumeAndAckAsync(client, "bench-floor-both", count, readers), bareCopy()), count);
        Console.WriteLine($"floor: both at once {both:N0}/s (nats-server CPU {(nats.CpuTime - natsCpu).TotalSeconds:N1} s): "
            + "no indexer that takes one message per alert goes faster on these cores");
    }

    /// <summary>Every message of FIM_ALERTS through a new durable consumer set as the indexer's, acked one by one.</summary>
    private static async Task ConsumeAndAckAsync(NatsTestClient client, string name, int count, int readers)
    {
        var options = new StoreOptions();
        var consumer = await client.Js.CreateOrUpdateConsumerAsync(Subjects.AlertsStream, AlertIndexer.DurableConsumer(options, name));
        using var done = new CancellationTokenSource();
        var acked = 0;
        async Task ReadAsync()
        {
            try
            {
                await foreach (var msg in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, AlertIndexer.ConsumeOptions(options), done.Token))
                {
                    await msg.AckAsync(cancellationToken: done.Token);
                    if (Interlocked.Increment(ref acked) == count)
                    {
                        await done.CancelAsync();
                    }
                }
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
            }
        }
        await Task.WhenAll(Enumerable.Range(0, readers).Select(_ => Task.Run(ReadAsync)));
    }

    /// <summary>The store rate over each fifth of the rows, in commit order: how much of the whole-run rate is warm-up.</summary>
    private static List<double> Fifths(List<(DateTime At, long Rows)> commits)
    {
        // Each fifth runs from the commit that ended the one before (the first from the first commit) to its own last.
        var total = commits.Sum(c => c.Rows);
        var rates = new List<double>();
        var (from, rows, upTo) = (commits[0].At, 0L, commits[0].Rows);
        foreach (var (at, n) in commits.Skip(1))
        {
            rows += n;
            upTo += n;
            if (upTo * 5 >= total * (rates.Count + 1))
            {
                rates.Add(rows / (at - from).TotalSeconds);
                (from, rows) = (at, 0);
            }
        }
        return rates;
    }

    /// <summary>
    /// Each commit's time and rows, in commit order, from PostgreSQL's commit timestamps (track_commit_timestamp): exact,
    /// and nothing polls the table while the indexer writes.
    /// </summary>
    private static async Task<List<(DateTime At, long Rows)>> CommitsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT pg_xact_commit_timestamp(xmin) AS at, count(*) FROM alerts GROUP BY 1 ORDER BY 1", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var commits = new List<(DateTime At, long Rows)>();
        while (await reader.ReadAsync())
        {
            commits.Add((reader.GetDateTime(0), reader.GetInt64(1)));
        }
        return commits;
    }
}
