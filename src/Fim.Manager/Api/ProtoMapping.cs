using V1 = Fim.Api.V1;
using System.Text;
using Fim.Contracts;
using Fim.Manager.Agents;
using Google.Protobuf.WellKnownTypes;
using NATS.Client.JetStream;

namespace Fim.Manager.Api;

/// <summary>Wire-format events, alerts and heartbeats as API messages.</summary>
public static class ProtoMapping
{
    public static V1.Agent ToProto(AgentRecord a)
    {
        var agent = new V1.Agent
        {
            AgentId = a.AgentId,
            Host = a.Host,
            Version = a.Version,
            LastSeen = Timestamp.FromDateTimeOffset(a.LastSeen),
            HeartbeatJson = a.HeartbeatJson,
        };
        Copy(a.Labels, agent.Labels);
        if (a.Heartbeat is { } hb)
        {
            agent.BootId = hb.BootId;
            Copy(hb.AppliedPolicies, agent.AppliedPolicies);
            Copy(hb.PolicyErrors, agent.PolicyErrors);
            if (hb.LastScan is { } scan)
            {
                agent.LastScan = new V1.AgentScan
                {
                    Policy = scan.Policy,
                    Reason = scan.Reason,
                    Time = Timestamp.FromDateTimeOffset(scan.Time),
                    Entries = scan.Entries,
                    Changes = scan.Changes,
                    DurationMs = scan.DurationMs,
                };
            }
        }
        return agent;
    }

    private static void Copy<T>(IReadOnlyDictionary<string, T> from, Google.Protobuf.Collections.MapField<string, T> to)
    {
        foreach (var (key, value) in from)
        {
            to[key] = value;
        }
    }

    public static V1.Alert ToProto(Alert a, INatsJSMsg<byte[]> msg) =>
        ToProto(a, msg.Metadata?.Sequence.Stream ?? 0, msg.Metadata is { } m ? Timestamp.FromDateTimeOffset(m.Timestamp) : null,
            Encoding.UTF8.GetString(msg.Data ?? []));

    /// <summary>A stored alert (its row gives the stream sequence, the time JetStream stored it and the wire JSON).</summary>
    public static V1.Alert ToProto(Alert a, Store.AlertRow row)
    {
        var alert = ToProto(a, (ulong)row.StreamSequence, Timestamp.FromDateTimeOffset(Store.Micros.ToTime(row.StoredAtMicros)), Encoding.UTF8.GetString(row.Json));
        alert.Review = row.Review is { } review ? ReviewArguments.ToProto(review) : null;
        return alert;
    }

    private static V1.Alert ToProto(Alert a, ulong streamSequence, Timestamp? storedAt, string json)
    {
        var alert = new V1.Alert
        {
            AlertId = a.AlertId,
            EventId = a.EventId,
            AgentId = a.AgentId,
            Host = a.Host,
            Policy = a.Policy ?? "",
            Path = a.Path,
            Kind = a.Kind,
            Source = a.Source,
            ObservedAt = Timestamp.FromDateTimeOffset(a.ObservedAt),
            RuleId = a.Rule.Id,
            RuleDescription = a.Rule.Description,
            Level = a.Level,
            StreamSequence = streamSequence,
            StoredAt = storedAt,
            Json = json,
        };
        alert.Changed.Add(a.Changed);
        alert.Compliance.Add(a.Compliance);
        alert.Tags.Add(a.Tags);
        return alert;
    }

    /// <summary>A stored alert as the change it reports (file history).</summary>
    public static V1.FileEvent ToEventProto(Alert a, Store.AlertRow row)
    {
        var ev = new V1.FileEvent
        {
            EventId = a.EventId,
            AgentId = a.AgentId,
            Host = a.Host,
            Policy = a.Policy ?? "",
            Path = a.Path,
            Kind = a.Kind,
            Source = a.Source,
            ObservedAt = Timestamp.FromDateTimeOffset(a.ObservedAt),
            StreamSequence = (ulong)row.StreamSequence,
            StoredAt = Timestamp.FromDateTimeOffset(Store.Micros.ToTime(row.StoredAtMicros)),
            Json = Encoding.UTF8.GetString(row.Json),
        };
        ev.Changed.Add(a.Changed);
        return ev;
    }
}
