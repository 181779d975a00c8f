using k8s;
using k8s.Models;
using static Fim.Testing.KubeApi.Tests.Support.TestServer;

namespace Fim.Testing.KubeApi.Tests;

/// <summary>core/v1 Events print with the real server's columns, so `kubectl get events` reads as against a cluster.</summary>
public sealed class EventTableTests
{
    [Fact]
    public async Task Kubectl_get_events_shows_last_seen_type_reason_object_and_message_and_wide_adds_the_rest()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var now = DateTime.UtcNow;
        await client.CoreV1.CreateNamespacedEventAsync(new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = "node-b.1", NamespaceProperty = "default" },
            InvolvedObject = new V1ObjectReference { ApiVersion = "v1", Kind = "Node", Name = "node-b", Uid = "u1" },
            Type = "Warning",
            Reason = "IntegrityChanged",
            Message = "node node-b: 1 added",
            Source = new V1EventSource { Component = "fim-operator" },
            FirstTimestamp = now.AddMinutes(-3),
            LastTimestamp = now.AddMinutes(-1),
            Count = 4,
        }, "default");

        using var kubectl = Kubectl.For(server.WriteKubeconfig);
        var lines = (await kubectl.OkAsync("get", "events")).Trim().Split('\n');
        Assert.Matches(@"^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$", lines[0].Trim());
        // Ages are read when kubectl prints, seconds after the timestamps were set: "3m" then, on a busy machine, "3m1s" (kubectl's
        // own format), as "60s" becomes "61s".
        Assert.Matches(@"^6\ds \(x4 over 3m(\ds)?\)\s+Warning\s+IntegrityChanged\s+node/node-b\s+node node-b: 1 added$", lines[1].Trim());
        var wide = (await kubectl.OkAsync("get", "events", "-o", "wide")).Trim().Split('\n');
        Assert.Matches(@"^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+SUBOBJECT\s+SOURCE\s+MESSAGE\s+FIRST SEEN\s+COUNT\s+NAME$", wide[0].Trim());
        Assert.Matches(@"\s+fim-operator\s+node node-b: 1 added\s+3m(\ds)?\s+4\s+node-b\.1$", wide[1].Trim());
    }
}
