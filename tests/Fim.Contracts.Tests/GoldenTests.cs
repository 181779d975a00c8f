using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Fim.Contracts.Tests;

/// <summary>
/// Every payload that crosses a process, pinned: serialized it must be its golden file byte for byte, and the golden file
/// must read back into the same record (so a field that is written but not read, or read under another name, fails).
/// </summary>
public sealed class GoldenTests
{
    [Fact]
    public void File_event() => RoundTrip("file-event", Samples.Event(), ContractJson.Default.FileEvent);

    [Fact]
    public void Baseline_reset_event() => RoundTrip("file-event-baseline-reset", Samples.BaselineResetEvent(), ContractJson.Default.FileEvent);

    [Fact]
    public void Content_event() => RoundTrip("file-event-content", Samples.ContentEvent(), ContractJson.Default.FileEvent);

    [Fact]
    public void File_event_of_a_packaged_file() => RoundTrip("file-event-package", Samples.PackageEvent(), ContractJson.Default.FileEvent);

    [Fact]
    public void Security_event_of_Falco() => RoundTrip("security-event-falco", SecuritySamplesEvents.Falco(), ContractJson.Default.FileEvent);

    [Fact]
    public void Security_event_of_Prowler() => RoundTrip("security-event-prowler", SecuritySamplesEvents.Prowler(), ContractJson.Default.FileEvent);

    [Fact]
    public void Falco_alert_in_Elastic_Common_Schema() => VerifyEcs("alert-ecs-falco", Contracts.Alert.For(SecuritySamplesEvents.Falco(),
        new RuleRef { Id = "705", Level = 5, Description = "Falco Notice event." }, 5, [], ["falco"]));

    [Fact]
    public void Prowler_alert_in_Elastic_Common_Schema() => VerifyEcs("alert-ecs-prowler", Contracts.Alert.For(SecuritySamplesEvents.Prowler(),
        new RuleRef { Id = "721", Level = 11, Description = "Prowler check failed (High)." }, 11, ["cis:2.1.5"], []));

    [Fact]
    public void Maintenance_window() => RoundTrip("maintenance-window", Samples.MaintenanceWindow(), ContractJson.Default.MaintenanceWindow);

    [Fact]
    public void Alert() => RoundTrip("alert", Samples.Alert(), ContractJson.Default.Alert);

    [Fact]
    public void Alert_in_Elastic_Common_Schema_on_stdout() => VerifyEcs("alert-ecs", Samples.Alert());

    [Fact]
    public void Alert_in_Elastic_Common_Schema_with_diff_growth_flapping_and_package()
    {
        var e = Samples.ContentEvent();
        e.Package = Samples.PackageEvent().Package;
        VerifyEcs("alert-ecs-content", Contracts.Alert.For(e, new RuleRef { Id = "fim-append-violation", Level = 10, Description = "Append-only file rewritten." }, 10,
            ["pci_dss:10.5.5"], []));
    }

    private static void VerifyEcs(string name, Alert alert)
    {
        var indented = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(indented, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            EcsAlert.Write(writer, alert);
        }
        GoldenFile.Verify(name, EcsAlert.ToUtf8(alert), indented.WrittenSpan.ToArray());
    }

    [Fact]
    public void Heartbeat() => RoundTrip("heartbeat", Samples.Heartbeat(), ContractJson.Default.Heartbeat);

    /// <summary>A heartbeat of an agent that counts drift (issue 18): the policy's drift and its last scan's errors.</summary>
    [Fact]
    public void Heartbeat_with_drift() => RoundTrip("heartbeat-drift", Samples.HeartbeatWithDrift(), ContractJson.Default.Heartbeat);

    [Fact]
    public void Rebaseline_command() => RoundTrip("agent-command-rebaseline",
        AgentCommand.Rebaseline("prod/web-config", "7c1d2e3f-rebaseline", "kubernetes-admin"), ContractJson.Default.AgentCommand);

    [Fact]
    public void Rebaseline_reply() => RoundTrip("agent-reply-rebaseline",
        new AgentReply { Ok = true, Rebaselined = ["prod/web-config"], Time = Samples.T0 }, ContractJson.Default.AgentReply);

    [Fact]
    public void Policy_document() => RoundTrip("policy-document", Samples.PolicyDocument(), ContractJson.Default.PolicyDocument);

    [Fact]
    public void Scan_command() => RoundTrip("agent-command-scan", AgentCommand.Scan, ContractJson.Default.AgentCommand);

    [Fact]
    public void State_command() => RoundTrip("agent-command-state", Samples.StateCommand(), ContractJson.Default.AgentCommand);

    [Fact]
    public void Scan_reply() => RoundTrip("agent-reply-scan", Samples.ScanReply(), ContractJson.Default.AgentReply);

    [Fact]
    public void State_reply() => RoundTrip("agent-reply-state", Samples.StateReply(), ContractJson.Default.AgentReply);

    [Fact]
    public void Error_reply() => RoundTrip("agent-reply-error", AgentReply.Failure("not monitored"), ContractJson.Default.AgentReply);

    [Fact]
    public void Stat_path_command() => RoundTrip("agent-command-stat-path", AgentCommand.StatPath("/etc/ssh/sshd_config"), ContractJson.Default.AgentCommand);

    [Fact]
    public void Stat_path_reply_present() => RoundTrip("agent-reply-stat-path",
        new AgentReply { Ok = true, Policy = "prod/web-config", Path = "/etc/passwd", Exists = true, State = Samples.State(2048, new string('e', 64)), Time = Samples.T0 },
        ContractJson.Default.AgentReply);

    [Fact]
    public void Stat_path_reply_absent() => RoundTrip("agent-reply-stat-path-absent",
        new AgentReply { Ok = true, Policy = "prod/web-config", Path = "/etc/gone", Exists = false, Time = Samples.T0 }, ContractJson.Default.AgentReply);

    [Fact]
    public void Unreviewed_alerts() => RoundTrip("unreviewed-alerts", new UnreviewedAlerts
    {
        AgentId = "web-1",
        MinLevel = UnreviewedAlerts.HighLevel,
        Count = 3,
        CountedAt = DateTimeOffset.Parse("2026-12-03T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
    }, ContractJson.Default.UnreviewedAlerts);

    [Fact]
    public void Agent_removal() => RoundTrip("agent-removal", new AgentRemoval
    {
        AgentId = "web-1",
        RemovedAt = Samples.T0.AddDays(8),
        RemovedBy = "alice@example.com",
        Reason = AgentRemoval.ByApi,
        LastSeen = Samples.T0,
        LastHeartbeat = Samples.Heartbeat(),
    }, ContractJson.Default.AgentRemoval);

    [Fact]
    public void Scan_record() => RoundTrip("scan-record", Samples.ScanRecord(), ContractJson.Default.ScanRecord);

    [Fact]
    public void Failed_scan_record() => RoundTrip("scan-record-failed", Samples.ScanRecord() with
    {
        Result = ScanRecord.ResultError,
        Errors = 1,
        Added = 0,
        Changed = 0,
        Removed = 0,
        Failure = "/etc/app: no such file or directory",
    }, ContractJson.Default.ScanRecord);

    /// <summary>A dead letter is the original bytes plus these headers on fim.deadletter.&lt;reason&gt;: reasons and header names are the contract.</summary>
    [Fact]
    public void Dead_letter_reasons_and_headers()
    {
        var letter = new DeadLetter(DeadLetter.InvalidId, "eventId: control character U+001B at position 5\n(and more)");
        byte[] Write(bool indented)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented, NewLine = "\n" }))
            {
                writer.WriteStartObject();
                writer.WriteStartArray("reasons");
                foreach (var reason in DeadLetter.Reasons)
                {
                    writer.WriteStringValue(reason);
                }
                writer.WriteEndArray();
                writer.WriteString("subject", Subjects.DeadLetter(letter.Reason));
                writer.WriteString("messageId", DeadLetter.MessageId(Subjects.EventsStream, 42));
                writer.WriteStartObject("headers");
                foreach (var (name, value) in letter.Headers(Subjects.Events("node-1"), Subjects.EventsStream, 42, 1))
                {
                    writer.WriteString(name, value);
                }
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            return buffer.WrittenSpan.ToArray();
        }
        GoldenFile.Verify("dead-letter", Write(false), Write(true));
    }

    [Fact]
    public void Node_hold_off_window() => RoundTrip("maintenance-window-node", new MaintenanceWindow
    {
        Id = "mw-0a1b2c3d4e5f",
        Start = Samples.T0,
        End = Samples.T0.AddDays(7),
        Reason = "node ip-10-0-1-17.eu-west-1.compute.internal cordoned",
        LevelReduction = 5,
        CreatedBy = "fim-operator",
        CreatedAt = Samples.T0,
        EndedAt = Samples.T0.AddMinutes(40),
        EndedBy = "fim-operator",
        AgentIds = ["ip-10-0-1-17-eu-west-1-compute-internal"],
        Node = "ip-10-0-1-17.eu-west-1.compute.internal",
        OnEnd = MaintenanceWindow.OnEndSummary,
        SummarizedAt = Samples.T0.AddMinutes(41),
    }, ContractJson.Default.MaintenanceWindow);

    [Fact]
    public void Pool_scaled_notification() => RoundTrip("notification-pool-scaled", new Notification
    {
        Id = "pool-scaled:fim/managers:2-4:81234",
        Kind = Notification.PoolScaled,
        Time = Samples.T0,
        Source = "fim-operator",
        Regarding = "fim/managers",
        Text = "FIM manager pool fim/managers scaled up from 2 to 4 replicas: autoscaler: fim_consumer_pending 3600 per replica (target 1k)",
        Details = new Dictionary<string, string> { ["pool"] = "fim/managers", ["from"] = "2", ["to"] = "4", ["reason"] = "autoscaler: fim_consumer_pending 3600 per replica (target 1k)" },
    }, ContractJson.Default.Notification);

    [Fact]
    public void The_non_UTF8_path_travels_as_exact_bytes_beside_its_display_form()
    {
        var e = JsonSerializer.Deserialize(ContractJson.ToUtf8(Samples.Event()), ContractJson.Default.FileEvent)!;
        var bytes = Convert.FromBase64String(e.PathBase64!);
        Assert.False(Fim.Core.Model.PathBytes.IsValidUtf8(bytes));
        Assert.Equal(0xE9, bytes[13]);
        Assert.Equal(Fim.Core.Model.PathBytes.ToDisplay(bytes), e.Path);
    }

    [Fact]
    public void The_golden_files_are_exactly_the_payloads_tested_here()
    {
        var names = typeof(GoldenTests).GetMethods().Count(m => m.GetCustomAttributes(typeof(FactAttribute), false).Length > 0) - 2;
        var files = Directory.GetFiles(Fim.Testing.Repository.File("tests/Fim.Contracts.Tests/Golden"), "*.json");
        Assert.True(names == files.Length, $"{files.Length} golden files for {names} payload tests: delete the file of a payload that is gone");
    }

    private static readonly JsonSerializerOptions Indented = new(ContractJson.Default.Options) { WriteIndented = true, NewLine = "\n" };

    private static void RoundTrip<T>(string name, T sample, JsonTypeInfo<T> type)
    {
        var wire = JsonSerializer.SerializeToUtf8Bytes(sample, type);
        var golden = GoldenFile.Verify(name, wire, JsonSerializer.SerializeToUtf8Bytes(sample, (JsonTypeInfo<T>)Indented.GetTypeInfo(typeof(T))));
        var read = JsonSerializer.Deserialize(golden, type);
        Assert.NotNull(read);
        Assert.True(wire.AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(read, type)),
            $"{name}: the golden file does not read back into the same {typeof(T).Name}; a field is written under a name it is not read by.\n"
            + $"written: {Encoding.UTF8.GetString(wire)}\nre-read: {Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(read, type))}");
    }
}
