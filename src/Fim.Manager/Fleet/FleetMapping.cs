using V1 = Fim.Api.V1;
using Fim.Manager.Api;
using Google.Protobuf.WellKnownTypes;

namespace Fim.Manager.Fleet;

/// <summary>An agent with its lifecycle status as an API message.</summary>
public static class FleetMapping
{
    public static V1.Agent ToProto(AgentView view)
    {
        var agent = ProtoMapping.ToProto(view.Agent);
        agent.Status = view.Status;
        if (view.Removal is { } r)
        {
            agent.RemovedAt = Timestamp.FromDateTimeOffset(r.RemovedAt);
            agent.RemovedBy = r.RemovedBy;
        }
        return agent;
    }
}
