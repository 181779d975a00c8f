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
                await js.CreateStreamAsync(new StreamConfig(Subjects.ScansStream, [Subjects.AllScans]) { Storage = StreamConfigStorage.File }, ct);
                expected[Subjects.EventsStream] = [];
                expected[Subjects.AlertsStream] = [];
                expected[Subjects.ScansStream] = [];
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
                    if (i % 100 == 0)
                    {
                        var scan = $"{{\"agentId\":\"{agent}\",\"files\":{i}}}";
                        (await js.PublishAsync(Subjects.Scans(agent), Encoding.UTF8.GetBytes(scan), cancellationToken: ct)).EnsureSuccess();
                        expected[Subjects.ScansStream].Add((Subjects.Scans(agent), scan, null));
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
            var run = RunTool(["restore", "--url", server.Url, "--dir", backupDir, "--timeout", "60"]);
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Contains("FIM_EVENTS: restored 3000 messages", run.Stdout);
            Assert.Contains("FIM_ALERTS: restored 300 messages", run.Stdout);
            Assert.Contains("FIM_SCANS: restored 30 messages", run.Stdout);
            Assert.Contains($"FIM_DEADLETTER: not in {backupDir}, skipped", run.Stdout);

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

    /// <summary>The command-line tool from its own output directory (its deps/runtimeconfig), built by the project reference.</summary>
    private static ProcessResult RunTool(IEnumerable<string> args)
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var tool = Path.Combine(Repo.Root, "src", "Fim.JetStreamBackup", "bin", configuration, "net10.0", "fim-js-backup.dll");
        Assert.True(File.Exists(tool), $"{tool} not built");
        return ChildProcess.Run("dotnet", [tool, .. args]);
    }

    [Fact]
    public async Task Without_stream_names_a_snapshot_takes_every_FIM_stream_present_and_fails_when_there_is_none()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var server = await NatsServer.StartAsync();
        var dir = Directory.CreateTempSubdirectory("fim-js-backup-").FullName;
        try
        {
            var none = RunTool(["snapshot", "--url", server.Url, "--dir", dir, "--timeout", "30"]);
            Assert.True(none.ExitCode == 1, none.Output);
            Assert.Contains("none of FIM_EVENTS, FIM_ALERTS, FIM_SCANS, FIM_DEADLETTER is on the server", none.Stderr);

            await using (var nats = new NatsConnection(NatsOpts.Default with { Url = server.Url }))
            {
                var js = new NatsJSContext(nats);
                await js.CreateStreamAsync(new StreamConfig(Subjects.ScansStream, [Subjects.AllScans]), cts.Token);
                (await js.PublishAsync(Subjects.Scans("node-a"), "{}"u8.ToArray(), cancellationToken: cts.Token)).EnsureSuccess();
            }
            var some = RunTool(["snapshot", "--url", server.Url, "--dir", dir, "--timeout", "30"]);
            Assert.True(some.ExitCode == 0, some.Output);
            Assert.Contains("FIM_SCANS: snapshot of 1 messages", some.Stdout);
            Assert.Contains("FIM_ALERTS: not on the server, skipped", some.Stdout);
            Assert.True(File.Exists(Path.Combine(dir, "FIM_SCANS.snapshot")));
            Assert.False(File.Exists(Path.Combine(dir, "FIM_ALERTS.snapshot")));

            // A stream asked for by name is not skipped.
            var named = RunTool(["snapshot", "--url", server.Url, "--dir", dir, "--stream", "FIM_ALERTS", "--timeout", "30"]);
            Assert.True(named.ExitCode == 1, named.Output);
            Assert.Contains("FIM_ALERTS", named.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
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
