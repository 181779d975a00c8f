using Fim.Contracts;
using System.Text;
using Fim.JetStreamBackup;
using Fim.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Fim.Deploy.Tests;

/// <summary>FIM_EVENTS and FIM_ALERTS through snapshot, wipe and restore on a real nats-server.</summary>
public sealed class JetStreamBackupTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Snapshot_wipe_restore_brings_back_every_message()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        await using var server = await NatsServer.StartAsync();
        var backupDir = Directory.CreateTempSubdirectory("fim-js-backup-").FullName;
        try
        {
            var expected = new Dictionary<string, List<(string Subject, string Data, string? MsgId)>>();
            await using (var nats = new NatsConnection(NatsOpts.Default with { Url = server.Url }))
            {
                var js = new NatsJSContext(nats);
                await js.CreateStreamAsync(new StreamConfig(Subjects.EventsStream, [Subjects.AllEvents]) { Storage = StreamConfigStorage.File, DuplicateWindow = TimeSpan.FromMinutes(2) }, ct);
                await js.CreateStreamAsync(new StreamConfig(Subjects.AlertsStream, [Subjects.AllAlerts]) { Storage = StreamConfigStorage.File }, ct);
                expected[Subjects.EventsStream] = [];
                expected[Subjects.AlertsStream] = [];
                // Enough data for many 128 KiB chunks (random payloads do not compress).
                var random = new Random(42);
                for (var i = 0; i < 3000; i++)
                {
                    var agent = $"node-{i % 7}";
                    var blob = new byte[600];
                    random.NextBytes(blob);
                    var body = $"{{\"seq\":{i},\"agent\":\"{agent}\",\"blob\":\"{Convert.ToBase64String(blob)}\"}}";
                    var msgId = $"{agent}:boot:{i}";
                    var ack = await js.PublishAsync(Subjects.Events(agent), Encoding.UTF8.GetBytes(body), opts: new NatsJSPubOpts { MsgId = msgId }, cancellationToken: ct);
                    ack.EnsureSuccess();
                    expected[Subjects.EventsStream].Add((Subjects.Events(agent), body, msgId));
                    if (i % 10 == 0)
                    {
                        var alert = $"{{\"rule\":\"fim.{i}\",\"level\":{i % 16}}}";
                        var subject = Subjects.Alerts(i % 16, agent);
                        (await js.PublishAsync(subject, Encoding.UTF8.GetBytes(alert), cancellationToken: ct)).EnsureSuccess();
                        expected[Subjects.AlertsStream].Add((subject, alert, null));
                    }
                }

                // The managers' durable consumer, 1000 events acknowledged: its position must survive the restore.
                var managers = await js.CreateOrUpdateConsumerAsync(Subjects.EventsStream, new ConsumerConfig(Subjects.ManagersConsumer) { AckPolicy = ConsumerConfigAckPolicy.Explicit }, ct);
                await foreach (var m in managers.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 1000, Expires = TimeSpan.FromSeconds(10) }, cancellationToken: ct))
                {
                    await m.AckAsync(new AckOpts { DoubleAck = true }, ct);
                }

                foreach (var stream in expected.Keys)
                {
                    var meta = await StreamSnapshots.SnapshotToDirectoryAsync(nats, stream, backupDir, Deadline, ct);
                    Assert.Equal(expected[stream].Count, meta.State["messages"]!.GetValue<long>());
                    Assert.True(meta.Bytes > 0);
                }
                Assert.True(new FileInfo(Path.Combine(backupDir, "FIM_EVENTS.snapshot")).Length > 256 * 1024, "the events snapshot should span several chunks");

                // Wipe: the streams are gone.
                foreach (var stream in expected.Keys)
                {
                    Assert.True(await js.DeleteStreamAsync(stream, ct));
                }
                await Assert.ThrowsAsync<NatsJSApiException>(async () => await js.GetStreamAsync(Subjects.EventsStream, cancellationToken: ct));
            }

            // Restore with the command-line tool, as the runbook does.
            // From the tool's own output directory (its deps/runtimeconfig), built by the project reference.
            var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
            var tool = Path.Combine(Repo.Root, "src", "Fim.JetStreamBackup", "bin", configuration, "net10.0", "fim-js-backup.dll");
            Assert.True(File.Exists(tool), $"{tool} not built");
            var run = ChildProcess.Run("dotnet", [tool, "restore", "--url", server.Url, "--dir", backupDir, "--timeout", "60"]);
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Contains("FIM_EVENTS: restored 3000 messages", run.Stdout);
            Assert.Contains("FIM_ALERTS: restored 300 messages", run.Stdout);

            await using (var nats = new NatsConnection(NatsOpts.Default with { Url = server.Url }))
            {
                var js = new NatsJSContext(nats);
                foreach (var (stream, messages) in expected)
                {
                    var s = await js.GetStreamAsync(stream, cancellationToken: ct);
                    Assert.Equal(messages.Count, (int)s.Info.State.Messages);
                    var consumer = await s.CreateOrderedConsumerAsync(cancellationToken: ct);
                    var got = new List<(string, string, string?)>();
                    await foreach (var m in consumer.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = messages.Count, Expires = TimeSpan.FromSeconds(10) }, cancellationToken: ct))
                    {
                        string? id = m.Headers is { } h && h.TryGetValue("Nats-Msg-Id", out var v) ? v.ToString() : null;
                        got.Add((m.Subject, Encoding.UTF8.GetString(m.Data!), id));
                    }
                    Assert.Equal(messages, got);
                }

                var restoredConsumer = await js.GetConsumerAsync(Subjects.EventsStream, Subjects.ManagersConsumer, ct);
                Assert.Equal(1000ul, restoredConsumer.Info.AckFloor.StreamSeq);
                Assert.Equal(2000ul, restoredConsumer.Info.NumPending);

                // The dedupe window came back with the stream: a retried publish of a restored event is stored once.
                var js2 = new NatsJSContext(nats);
                var (subject, data, msgId) = expected[Subjects.EventsStream][^1];
                var dup = await js2.PublishAsync(subject, Encoding.UTF8.GetBytes(data), opts: new NatsJSPubOpts { MsgId = msgId }, cancellationToken: ct);
                Assert.True(dup.Duplicate);
            }
        }
        finally
        {
            Directory.Delete(backupDir, recursive: true);
        }
    }

    [Fact]
    public async Task Restore_refuses_an_existing_stream_and_snapshot_a_missing_one()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var server = await NatsServer.StartAsync();
        await using var nats = new NatsConnection(NatsOpts.Default with { Url = server.Url });
        var js = new NatsJSContext(nats);
        var dir = Directory.CreateTempSubdirectory("fim-js-backup-").FullName;
        try
        {
            var missing = await Assert.ThrowsAsync<IOException>(() => StreamSnapshots.SnapshotToDirectoryAsync(nats, Subjects.EventsStream, dir, Deadline, cts.Token));
            Assert.Contains("not found", missing.Message);

            await js.CreateStreamAsync(new StreamConfig(Subjects.AlertsStream, [Subjects.AllAlerts]), cts.Token);
            (await js.PublishAsync("fim.alerts.12.node-a", "x"u8.ToArray(), cancellationToken: cts.Token)).EnsureSuccess();
            await StreamSnapshots.SnapshotToDirectoryAsync(nats, Subjects.AlertsStream, dir, Deadline, cts.Token);
            var exists = await Assert.ThrowsAsync<IOException>(() => StreamSnapshots.RestoreFromDirectoryAsync(nats, Subjects.AlertsStream, dir, Deadline, cts.Token));
            Assert.Contains(Subjects.AlertsStream, exists.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
