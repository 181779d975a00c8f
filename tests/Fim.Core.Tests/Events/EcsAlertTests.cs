using System.Text.Json;
using Fim.Contracts;

namespace Fim.Core.Tests.Events;

public sealed class EcsAlertTests
{
    private static readonly DateTimeOffset Observed = new(2026, 11, 23, 10, 15, 30, TimeSpan.Zero);

    private static Alert AlertFor(string kind, FileState? before, FileState? after, Actor? actor = null)
    {
        var e = new FileEvent
        {
            EventId = "node-1:boot:42",
            AgentId = "node-1",
            Host = "node-1.example",
            Policy = "default.etc",
            Path = "/etc/ssh/sshd_config",
            Kind = kind,
            Changed = kind == "modified" ? ["size", "sha256"] : [],
            Before = before,
            After = after,
            Source = "realtime",
            ObservedAt = Observed,
            Actor = actor,
        };
        var alert = Alert.For(e, new RuleRef { Id = "550", Level = 7, Description = "Integrity checksum changed." }, 7,
            ["pci_dss:11.5", "nist_800_53:SI.7"], ["ssh"]);
        alert.Labels = new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = "eu-1a" };
        return alert;
    }

    private static FileState State(long size, char hash) => new()
    {
        Type = "file",
        Size = size,
        Mode = "0600",
        Uid = 0,
        Gid = 42,
        Owner = "root",
        Group = "shadow",
        Inode = 1234,
        Device = 2049,
        Mtime = Observed.AddMinutes(-1),
        Ctime = Observed.AddMinutes(-1),
        Sha256 = new string(hash, 64),
    };

    [Fact]
    public void A_modification_names_the_file_as_it_is_now_in_ECS_fields_and_keeps_the_rest_under_fim()
    {
        var root = JsonDocument.Parse(EcsAlert.ToUtf8(AlertFor("modified", State(10, 'a'), State(12, 'b')))).RootElement;

        Assert.Equal(Observed, root.GetProperty("@timestamp").GetDateTimeOffset());
        Assert.Equal("8.11.0", root.GetProperty("ecs").GetProperty("version").GetString());
        var ev = root.GetProperty("event");
        Assert.Equal("node-1:boot:42/550", ev.GetProperty("id").GetString());
        Assert.Equal("alert", ev.GetProperty("kind").GetString());
        Assert.Equal(["file"], ev.GetProperty("category").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(["change"], ev.GetProperty("type").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal("modified", ev.GetProperty("action").GetString());
        Assert.Equal(7, ev.GetProperty("severity").GetInt32());
        var file = root.GetProperty("file");
        Assert.Equal("/etc/ssh/sshd_config", file.GetProperty("path").GetString());
        Assert.Equal("sshd_config", file.GetProperty("name").GetString());
        Assert.Equal("/etc/ssh", file.GetProperty("directory").GetString());
        Assert.False(file.TryGetProperty("extension", out _));
        Assert.Equal("file", file.GetProperty("type").GetString());
        Assert.Equal(12, file.GetProperty("size").GetInt64());
        Assert.Equal("42", file.GetProperty("gid").GetString()); // ECS keywords, not numbers
        Assert.Equal("1234", file.GetProperty("inode").GetString());
        Assert.Equal(new string('b', 64), file.GetProperty("hash").GetProperty("sha256").GetString());
        Assert.Equal("node-1.example", root.GetProperty("host").GetProperty("name").GetString());
        Assert.Equal("node-1", root.GetProperty("agent").GetProperty("id").GetString());
        Assert.Equal("550", root.GetProperty("rule").GetProperty("id").GetString());
        Assert.Equal("eu-1a", root.GetProperty("labels").GetProperty("topology_kubernetes_io/zone").GetString());
        Assert.Equal(["ssh"], root.GetProperty("tags").EnumerateArray().Select(x => x.GetString()));
        var fim = root.GetProperty("fim");
        Assert.Equal(["pci_dss:11.5", "nist_800_53:SI.7"], fim.GetProperty("compliance").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(["size", "sha256"], fim.GetProperty("changed").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(new string('a', 64), fim.GetProperty("before").GetProperty("sha256").GetString());
        Assert.Equal(7, fim.GetProperty("level").GetInt32());
        Assert.False(root.TryGetProperty("process", out _));
    }

    [Fact]
    public void A_deletion_describes_the_file_as_it_was_and_an_addition_is_a_creation()
    {
        var deleted = JsonDocument.Parse(EcsAlert.ToUtf8(AlertFor("deleted", State(10, 'a'), null))).RootElement;
        var added = JsonDocument.Parse(EcsAlert.ToUtf8(AlertFor("added", null, State(5, 'c')))).RootElement;

        Assert.Equal("deletion", deleted.GetProperty("event").GetProperty("type")[0].GetString());
        Assert.Equal(new string('a', 64), deleted.GetProperty("file").GetProperty("hash").GetProperty("sha256").GetString());
        Assert.False(deleted.GetProperty("fim").TryGetProperty("after", out _));
        Assert.Equal("creation", added.GetProperty("event").GetProperty("type")[0].GetString());
        Assert.Equal(5, added.GetProperty("file").GetProperty("size").GetInt64());
    }

    [Fact]
    public void Who_did_it_maps_to_process_user_and_container()
    {
        var root = JsonDocument.Parse(EcsAlert.ToUtf8(AlertFor("modified", State(1, 'a'), State(2, 'b'),
            new Actor { Uid = 1000, LoginUid = 1001, Pid = 4242, Process = "vim", Workload = new Workload { Scope = Workload.PodScope, ContainerId = "c0ffee" } }))).RootElement;

        Assert.Equal(4242, root.GetProperty("process").GetProperty("pid").GetInt32());
        Assert.Equal("vim", root.GetProperty("process").GetProperty("name").GetString());
        Assert.Equal("1000", root.GetProperty("user").GetProperty("id").GetString());
        Assert.Equal("1001", root.GetProperty("user").GetProperty("audit").GetProperty("id").GetString());
        Assert.Equal("c0ffee", root.GetProperty("container").GetProperty("id").GetString());
    }

    [Fact]
    public void The_file_container_wins_over_the_writer_and_a_node_writer_has_no_container()
    {
        var inPod = AlertFor("modified", State(1, 'a'), State(2, 'b'), new Actor { Pid = 7, Workload = Workload.Node() });
        inPod.Container = new Workload
        {
            Scope = Workload.PodScope,
            ContainerId = "abc",
            ContainerName = "app",
            Image = "app:1",
            PodName = "web-1",
            PodNamespace = "prod",
            PodUid = "u-1",
            OwnerKind = "StatefulSet",
            OwnerName = "web",
        };
        var root = JsonDocument.Parse(EcsAlert.ToUtf8(inPod)).RootElement;
        Assert.Equal("app", root.GetProperty("container").GetProperty("name").GetString());
        Assert.Equal("app:1", root.GetProperty("container").GetProperty("image").GetProperty("name").GetString());
        var orchestrator = root.GetProperty("orchestrator");
        Assert.Equal("prod", orchestrator.GetProperty("namespace").GetString());
        Assert.Equal("web-1", orchestrator.GetProperty("resource").GetProperty("name").GetString());
        Assert.Equal("StatefulSet", orchestrator.GetProperty("resource").GetProperty("parent").GetProperty("type").GetString());

        var onNode = JsonDocument.Parse(EcsAlert.ToUtf8(AlertFor("modified", State(1, 'a'), State(2, 'b'),
            new Actor { Pid = 7, Workload = Workload.Node() }))).RootElement;
        Assert.False(onNode.TryGetProperty("container", out _));
        Assert.False(onNode.TryGetProperty("orchestrator", out _));
    }

    [Theory]
    [InlineData("file", "file")]
    [InlineData("directory", "dir")]
    [InlineData("symlink", "symlink")]
    [InlineData("fifo", "fifo")]
    public void File_types_use_ECS_values_where_ECS_has_them(string ours, string ecs) => Assert.Equal(ecs, EcsAlert.FileType(ours));
}
