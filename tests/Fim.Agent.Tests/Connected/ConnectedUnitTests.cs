using Fim.Contracts;
using System.Text;
using System.Text.Json;
using Fim.Agent.Cli;
using Fim.Agent.Connected;
using Fim.Agent.Tests.Support;
using Fim.Core.Model;

namespace Fim.Agent.Tests.Connected;

/// <summary>The connected agent's pure parts: selectors, the KV policy format, ids, configuration, commands, authorization.</summary>
public sealed class ConnectedUnitTests : IDisposable
{
    private readonly TempTree _t = new("unit");

    public void Dispose() => _t.Dispose();

    private static readonly Dictionary<string, string> Labels = new() { ["role"] = "web", ["zone"] = "a" };

    [Theory]
    [InlineData("""{"matchLabels":{"role":"web"}}""", true)]
    [InlineData("""{"matchLabels":{"role":"db"}}""", false)]
    [InlineData("""{"matchLabels":{"role":"web","tier":"x"}}""", false)]
    [InlineData("""{"matchExpressions":[{"key":"zone","operator":"In","values":["a","b"]}]}""", true)]
    [InlineData("""{"matchExpressions":[{"key":"zone","operator":"NotIn","values":["a"]}]}""", false)]
    [InlineData("""{"matchExpressions":[{"key":"gpu","operator":"DoesNotExist"}]}""", true)]
    [InlineData("""{"matchExpressions":[{"key":"gpu","operator":"Exists"}]}""", false)]
    [InlineData("""{"matchLabels":{"role":"web"},"matchExpressions":[{"key":"zone","operator":"Exists"}]}""", true)]
    [InlineData("""{}""", true)]
    public void Selectors_follow_Kubernetes_semantics(string selector, bool matches)
    {
        var value = """{"schemaVersion":1,"revision":1,"name":"ns/p","selector":""" + selector + ""","spec":{"paths":[{"path":"/etc"}]}}""";
        var (doc, _, _, error) = AssignedPolicy.Parse("ns.p", Encoding.UTF8.GetBytes(value));
        Assert.Null(error);
        Assert.Equal(matches, doc!.Selector.Matches(Labels));
    }

    [Fact]
    public void The_spec_selector_map_is_matchLabels_when_there_is_no_top_level_selector()
    {
        var (doc, _, _, _) = AssignedPolicy.Parse("ns.p", """{"revision":3,"name":"ns/p","spec":{"selector":{"role":"db"},"paths":[{"path":"/etc"}]}}"""u8);
        Assert.False(doc!.Selector.Matches(Labels));
        Assert.Equal("ns/p", doc.Policy.Name);
        Assert.Equal(3, doc.Revision);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1]", "JSON object")]
    [InlineData("""{"revision":1,"spec":{"paths":[{"path":"/etc"}]}}""", "'name' is required")]
    [InlineData("""{"name":"ns/p","spec":{"paths":[{"path":"/etc"}]}}""", "'revision' is required")]
    [InlineData("""{"revision":1,"name":"ns/p"}""", "'spec' is required")]
    [InlineData("""{"revision":1,"name":"ns/p","spec":{"paths":[{"path":"/etc"}],"colour":"red"}}""", "colour")]
    [InlineData("""{"revision":1,"name":"ns/p","spec":{"paths":[{"path":"etc"}]}}""", "paths[0].path")]
    [InlineData("""{"schemaVersion":2,"revision":1,"name":"ns/p","spec":{"paths":[{"path":"/etc"}]}}""", "schemaVersion")]
    [InlineData("""{"revision":1,"name":"ns/p","selector":{"matchExpressions":[{"key":"a","operator":"Near","values":["x"]}]},"spec":{"paths":[{"path":"/etc"}]}}""", "Near")]
    public void Invalid_policy_values_are_explained_not_thrown(string value, string expected)
    {
        var (doc, _, _, error) = AssignedPolicy.Parse("ns.p", Encoding.UTF8.GetBytes(value));
        Assert.Null(doc);
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData(null, "Node-7.example.COM", null, "node-7-example-com")]
    [InlineData(null, "host_1", "worker-3", "worker-3")]
    [InlineData("explicit-id", "h", "n", "explicit-id")]
    [InlineData(null, "...", null, "agent")]
    public void The_agent_id_is_configured_or_derived_from_NODE_NAME_or_the_host_name(string? configured, string hostname, string? nodeName, string expected)
    {
        var id = AgentIdentity.ResolveId(configured, name => name == "NODE_NAME" ? nodeName : null, hostname);
        Assert.Equal(expected, id);
        Assert.True(Subjects.IsValidAgentId(id));
    }

    [Fact]
    public void An_invalid_configuration_stops_the_agent_with_every_problem_named_by_key_and_no_secret()
    {
        var file = Path.Combine(_t.Root, "agent.yaml");
        File.WriteAllText(file, $"""
            agentId: Not Valid
            nats:
              url: http://x
              user: fim
              password: s3cret-value
              token: t0ken-value
              nkeyFile: /nonexistent/agent.nk
              tls: {"{"} certFile: /nonexistent/cert.pem {"}"}
            stateDir: {_t.State}
            keyFile: {_t.State}/key
            heartbeatInterval: soon
            outboxMaxEvents: 0
            """);
        var r = CliRunner.Run(["run", "--config", file]);
        Assert.Equal(ExitCodes.InvalidArgument, r.ExitCode);
        foreach (var key in new[] { "agentId:", "nats.url:", "nats.token:", "nats.nkeyFile:", "nats.tls.certFile:", "nats.tls.keyFile:", "keyFile:", "heartbeatInterval:", "outboxMaxEvents:" })
        {
            Assert.Contains(key, r.Stderr);
        }
        Assert.DoesNotContain("s3cret-value", r.Stderr + r.Stdout);
        Assert.DoesNotContain("t0ken-value", r.Stderr + r.Stdout);
    }

    [Fact]
    public void A_config_file_with_a_YAML_error_names_the_line()
    {
        var file = Path.Combine(_t.Root, "agent.yaml");
        File.WriteAllText(file, "nats:\n  url: [unclosed\n");
        var r = CliRunner.Run(["run", "--config", file]);
        Assert.Equal(ExitCodes.InvalidArgument, r.ExitCode);
        Assert.Contains("agent.yaml:", r.Stderr);
    }

    private sealed class FakeAgent : IAgentControl
    {
        public List<string> Scans { get; } = [];

        public IReadOnlyList<string> RequestScan(string reason)
        {
            Scans.Add(reason);
            return ["ns/p"];
        }

        public (string Policy, FileRecord Record)? Find(string path) =>
            path == "/etc/passwd" ? ("ns/p", new FileRecord { Path = PathBytes.FromString(path), Type = FileType.Regular, Size = 42, Mode = 0x1a4 }) : null;
    }

    [Theory]
    [InlineData("""{"command":"scan"}""", true, null)]
    [InlineData("""{"command":"state","path":"/etc/passwd"}""", true, null)]
    [InlineData("""{"command":"state","path":"/etc/shadow"}""", false, "not monitored")]
    [InlineData("""{"command":"state"}""", false, "path")]
    [InlineData("""{"command":"x"}""", false, "unknown command 'x'")]
    [InlineData("""{"cmd":"scan"}""", false, "command")]
    [InlineData("""{"command":"scan" """, false, "malformed")]
    [InlineData("", false, "empty")]
    [InlineData("null", false, "malformed")]
    public void Commands_are_answered_and_never_throw(string request, bool ok, string? error)
    {
        var agent = new FakeAgent();
        var reply = JsonDocument.Parse(new CommandHandler(agent, TimeProvider.System).Handle(Encoding.UTF8.GetBytes(request))).RootElement;
        Assert.Equal(ok, reply.GetProperty("ok").GetBoolean());
        if (error is not null)
        {
            Assert.Contains(error, reply.GetProperty("error").GetString());
        }
        if (request.Contains("passwd", StringComparison.Ordinal))
        {
            Assert.Equal(42, reply.GetProperty("state").GetProperty("size").GetInt64());
            Assert.Equal("0644", reply.GetProperty("state").GetProperty("mode").GetString());
        }
    }

    [Fact]
    public void The_authorization_generator_gives_each_agent_only_its_own_subjects()
    {
        var r = CliRunner.Run(["nats-authz", "--agent", "node-1", "--agent", "node-2", "--manager-user", "manager.fim"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("user: \"node-1.agents.fim\"", r.Stdout);
        Assert.Contains("\"fim.events.node-1\"", r.Stdout);
        Assert.Contains("\"$KV.fim-agents.node-1\"", r.Stdout);
        Assert.Contains("\"_INBOX.node-1.>\"", r.Stdout);
        Assert.Contains("\"fim.agent.node-1.cmd\"", r.Stdout);
        Assert.Contains("user: \"manager.fim\"", r.Stdout);
        var node1 = r.Stdout[r.Stdout.IndexOf("node-1.agents.fim", StringComparison.Ordinal)..r.Stdout.IndexOf("node-2.agents.fim", StringComparison.Ordinal)];
        Assert.DoesNotContain("node-2", node1);
        Assert.DoesNotContain(Subjects.AllEvents, node1);
        Assert.DoesNotContain(Subjects.EventsStream, node1);

        var bad = CliRunner.Run(["nats-authz", "--agent", "Bad.Id"]);
        Assert.Equal(ExitCodes.InvalidArgument, bad.ExitCode);
    }

    [Fact]
    public void The_Helm_template_grants_agents_exactly_what_the_generator_grants()
    {
        var template = File.ReadAllText(Path.Combine(Fim.Testing.Repository.Root, "deploy", "nats", "authorization.conf.tmpl"));
        var agentBlock = template[template.IndexOf("{{- range .Agents }}", StringComparison.Ordinal)..template.IndexOf("{{- range .ManagerUsers }}", StringComparison.Ordinal)];
        var granted = System.Text.RegularExpressions.Regex.Matches(agentBlock, "\"([^\"]+)\"")
            .Select(m => m.Groups[1].Value.Replace("{{ . }}", "x", StringComparison.Ordinal))
            .Where(v => v != "1m" && !v.Contains("SanSuffix", StringComparison.Ordinal))
            .ToHashSet();
        var expected = NatsAuthorization.AgentPublish("x").Concat(NatsAuthorization.AgentSubscribe("x")).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, granted.Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void Ingest_agent_ids_are_reserved_for_the_managers_ingest_endpoint()
    {
        var authz = new NatsAuthorization { Agents = { "node-1", Subjects.IngestAgentId(SecurityRecord.Falco) } };
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(authz.Render).Message, StringComparison.Ordinal);
        var problems = new AgentOptionsValidator().Validate(null, new AgentOptions { AgentId = "ingest-falco" });
        Assert.Contains(problems.Failures!, f => f.Contains("reserved", StringComparison.Ordinal));
        Assert.Contains(Subjects.Events("ingest-falco"), NatsAuthorization.ManagerPublish);
    }
}
