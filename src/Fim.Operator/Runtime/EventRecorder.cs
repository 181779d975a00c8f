using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Fim.Operator.Runtime;

/// <summary>Kubernetes Events (core/v1) for what a user should see in `kubectl describe`. Best effort: never fails a reconcile.</summary>
public sealed class EventRecorder(IKubernetes client, string component, string instance, ILogger logger)
{
    public Task RecordAsync(IKubernetesObject<V1ObjectMeta> regarding, string type, string reason, string message, CancellationToken ct)
    {
        var meta = regarding.Metadata;
        return RecordAsync(new V1ObjectReference
        {
            ApiVersion = regarding.ApiVersion,
            Kind = regarding.Kind,
            Name = meta.Name,
            NamespaceProperty = meta.NamespaceProperty,
            Uid = meta.Uid,
            ResourceVersion = meta.ResourceVersion,
        }, meta.NamespaceProperty, type, reason, message, ct);
    }

    /// <summary>An Event about <paramref name="regarding"/>, kept in <paramref name="ns"/>: a cluster-scoped object's (a Node's) in "default", as the kubelet's are.</summary>
    public async Task RecordAsync(V1ObjectReference regarding, string ns, string type, string reason, string message, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var ev = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = $"{regarding.Name}.", NamespaceProperty = ns },
            InvolvedObject = regarding,
            Type = type,
            Reason = reason,
            Message = message.Length > 1024 ? message[..1024] : message,
            Source = new V1EventSource { Component = component },
            ReportingComponent = component,
            ReportingInstance = instance,
            FirstTimestamp = now,
            LastTimestamp = now,
            EventTime = now,
            Action = reason,
            Count = 1,
        };
        try
        {
            await client.CoreV1.CreateNamespacedEventAsync(ev, ns, cancellationToken: ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogDebug("cannot record event {Reason} on {Kind} {Name}: {Error}", reason, regarding.Kind, regarding.Name, e.Message);
        }
    }
}
