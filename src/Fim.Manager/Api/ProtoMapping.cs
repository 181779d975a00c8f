using V1 = Fim.Api.V1;
using System.Text;
using Fim.Core.Events;
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
        foreach (var (key, value) in a.Labels)
        {
            agent.Labels[key] = value;
        }
        return agent;
    }

    public static V1.Alert ToProto(Alert a, INatsJSMsg<byte[]> msg)
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
            StreamSequence = msg.Metadata?.Sequence.Stream ?? 0,
            StoredAt = msg.Metadata is { } m ? Timestamp.FromDateTimeOffset(m.Timestamp) : null,
            Json = Encoding.UTF8.GetString(msg.Data ?? []),
        };
        alert.Changed.Add(a.Changed);
        alert.Compliance.Add(a.Compliance);
        alert.Tags.Add(a.Tags);
        return alert;
    }

    public static V1.FileEvent ToProto(FileEvent e, INatsJSMsg<byte[]> msg)
    {
        var ev = new V1.FileEvent
        {
            EventId = e.EventId,
            AgentId = e.AgentId,
            Host = e.Host,
            Policy = e.Policy ?? "",
            Path = e.Path,
            Kind = e.Kind,
            Source = e.Source,
            ObservedAt = Timestamp.FromDateTimeOffset(e.ObservedAt),
            StreamSequence = msg.Metadata?.Sequence.Stream ?? 0,
            StoredAt = msg.Metadata is { } m ? Timestamp.FromDateTimeOffset(m.Timestamp) : null,
            Json = Encoding.UTF8.GetString(msg.Data ?? []),
        };
        ev.Changed.Add(e.Changed);
        return ev;
    }
}
