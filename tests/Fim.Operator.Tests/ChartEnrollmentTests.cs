using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Controllers.Pool;
using Fim.Testing;
using k8s;
using k8s.Models;
using NATS.Client.Core;

namespace Fim.Operator.Tests;

/// <summary>
/// A Helm-installed system enrolls agents without a per-node change: the chart's FimManagerPool, turned into a
/// Deployment by the operator's own code, and the chart's DaemonSet init container, each run as real processes with
/// exactly the settings rendered (paths mapped from the Secrets' mounts to the files `fim-manager enrollment-init` wrote)
/// against a real nats-server configured with the same command's nats-operator.conf.
/// </summary>
public sealed class ChartEnrollmentTests
{
    private static readonly string[] EnrollmentValues =
        ["managerPool.enrollment.enabled=true", "agent.enrollment.enabled=true", "managerPool.enrollment.joinTokenUses=5"];

    [Fact]
    public async Task Agents_of_a_helm_installed_system_enroll_with_the_join_token_the_managers_register_from_the_secret()
    {
        var work = Directory.CreateTempSubdirectory("fim-chart-enroll-");
        try
        {
            await RunAsync(work.FullName);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task RunAsync(string workDir)
    {
        var secrets = Path.Combine(workDir, "enrollment");
        var init = await ChildProcess.RunAsync(ChildProcess.DotnetHost, [Programs.Manager, "enrollment-init", "--out", secrets]);
        Assert.True(init.ExitCode == 0, init.Output);
        var joinToken = JoinToken.Parse(await File.ReadAllTextAsync(Path.Combine(secrets, "join-token")));
        // The command prints where the secrets are and how to make Secrets of them, never a secret.
        Assert.DoesNotContain(joinToken.Secret, init.Output);
        Assert.DoesNotContain(Fim.Nats.NKeySeedFile.Read(Path.Combine(secrets, "account.nk")).GetSeed(), init.Output);
        Assert.All(Directory.GetFiles(secrets), f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
        // A second run must not overwrite the keys.
        Assert.NotEqual(0, (await ChildProcess.RunAsync(ChildProcess.DotnetHost, [Programs.Manager, "enrollment-init", "--out", secrets])).ExitCode);

        await using var server = await NatsServer.StartAsync(await File.ReadAllTextAsync(Path.Combine(secrets, "nats-operator.conf")));

        var docs = Render(EnrollmentValues);
        var pool = KubernetesYaml.Deserialize<FimManagerPool>(docs.Single(d => d.Contains("kind: FimManagerPool", StringComparison.Ordinal)));
        pool.Metadata.Uid = "uid-1";
        pool.Metadata.NamespaceProperty ??= "fim";
        var deployment = PoolDesiredState.Build(pool).Deployment;
        var pod = deployment.Spec.Template.Spec;
        var container = pod.Containers[0];
        var enrollmentVolume = Assert.Single(pod.Volumes, v => v.Secret?.SecretName == "fim-enrollment");
        var mount = Assert.Single(container.VolumeMounts, m => m.Name == enrollmentVolume.Name);
        Assert.True(mount.ReadOnlyProperty);

        // The Secret's keys are the files enrollment-init wrote (token: join-token).
        string Local(string path) => path.StartsWith(mount.MountPath + "/", StringComparison.Ordinal)
            ? Path.Combine(secrets, path[(mount.MountPath.Length + 1)..] is var key && key == PoolEnrollment.JoinTokenKey ? "join-token" : key)
            : path;
        var env = container.Env.Where(e => e.Value is not null && !e.Name.StartsWith("Fim__Api__", StringComparison.Ordinal))
            .ToDictionary(e => e.Name, e => Local(e.Value));
        Assert.Equal("true", env["Fim__Enrollment__Enabled"]);
        foreach (var key in new[] { "Fim__Enrollment__OperatorSeedFile", "Fim__Enrollment__AccountSeedFile", "Fim__Enrollment__SystemCredsFile", "Fim__Enrollment__JoinTokenFile", "Fim__Nats__CredsFile" })
        {
            Assert.True(File.Exists(env[key]), $"{key} = {env[key]} is not a file enrollment-init wrote");
        }
        Assert.Equal("5", env["Fim__Enrollment__JoinTokenFileUses"]);
        // Secrets reach the pod as files only.
        Assert.DoesNotContain(container.Env, e => e.ValueFrom?.SecretKeyRef is not null);
        var (http, grpc, health) = (NatsServer.FreePort(), NatsServer.FreePort(), NatsServer.FreePort());
        env["Fim__Nats__Url"] = server.Url;
        env["Fim__Api__Address"] = "127.0.0.1";
        env["Fim__Api__HttpPort"] = http.ToString();
        env["Fim__Api__GrpcPort"] = grpc.ToString();
        env["Fim__Api__HealthPort"] = health.ToString();
        env["Fim__Store__DataDirectory"] = Path.Combine(server.WorkDir, "manager-store");
        env["Fim__Telemetry__LogLevel"] = "Debug";
        using var manager = ChildProcess.Dotnet(Programs.Manager, [], env);
        await manager.AwaitLogAsync("Answering enrollment requests", TimeSpan.FromSeconds(90));

        // The DaemonSet's init container, as rendered, on two nodes.
        var daemonSet = KubernetesYaml.Deserialize<V1DaemonSet>(docs.Single(d => d.Contains("kind: DaemonSet", StringComparison.Ordinal)));
        var enroll = Assert.Single(daemonSet.Spec.Template.Spec.InitContainers);
        var tokenVolume = Assert.Single(daemonSet.Spec.Template.Spec.Volumes, v => v.Name == "join-token");
        Assert.Equal("fim-agent-join-token", tokenVolume.Secret.SecretName);
        foreach (var node in new[] { "node-a", "node-b" })
        {
            var state = Path.Combine(workDir, node);
            var args = enroll.Args
                .Where(a => !a.StartsWith("--tls-ca-file=", StringComparison.Ordinal)) // the test's NATS runs without TLS
                .Select(a => a.StartsWith("--nats-url=", StringComparison.Ordinal) ? "--nats-url=" + server.Url
                    : a.Replace("/etc/fim-agent/join-token/token", Path.Combine(secrets, "join-token"), StringComparison.Ordinal)
                        .Replace("/var/lib/fim-agent", state, StringComparison.Ordinal))
                .ToList();
            var result = await ChildProcess.RunAgentAsync([.. args, "--log-level", "debug"], new Dictionary<string, string> { ["NODE_NAME"] = node });
            Assert.True(result.ExitCode == 0, result.Output);
            Assert.DoesNotContain(joinToken.Secret, result.Output);

            // Its own identity: JetStream stores its own events and never hears another node's.
            var creds = Path.Combine(state, "identity", "agent.creds");
            // Replies come to its own inbox only, as the agent runs.
            await using var nats = new NatsConnection(NatsOpts.Default with { Url = server.Url, InboxPrefix = "_INBOX." + node, AuthOpts = NatsAuthOpts.Default with { CredsFile = creds } });
            await nats.ConnectAsync();
            var js = new NATS.Client.JetStream.NatsJSContext(nats, new NATS.Client.JetStream.NatsJSOpts(nats.Opts, requestTimeout: TimeSpan.FromSeconds(3)));
            var ack = await js.PublishAsync(Subjects.Events(node), "{}"u8.ToArray());
            Assert.Equal(Subjects.EventsStream, ack.Stream);
            var other = node == "node-a" ? "node-b" : "node-a";
            await Assert.ThrowsAnyAsync<Exception>(async () => await js.PublishAsync(Subjects.Events(other), "{}"u8.ToArray()));
        }
        Assert.Contains(manager.AllOutput.Split('\n'), l => l.Contains("Registered", StringComparison.Ordinal) && l.Contains("join token " + joinToken.TokenId, StringComparison.Ordinal));
        Assert.DoesNotContain(joinToken.Secret, manager.AllOutput);
    }

    [Theory]
    [InlineData("managerPool.enrollment.enabled=true,agent.enrollment.enabled=true,nats.mode=bundled", "needs NATS in operator/JWT mode")]
    [InlineData("agent.enrollment.enabled=true", "agent.enrollment.enabled needs managerPool.enrollment.enabled")]
    [InlineData("managerPool.enrollment.enabled=true", "set agent.enrollment.enabled too")]
    public void Enrollment_settings_that_cannot_work_together_fail_the_render_saying_what_to_change(string sets, string expected)
    {
        var r = KubeTools.Helm(["template", "rel", Repository.File("charts/fim"), "--namespace", "fim", .. sets.Split(',').SelectMany(s => new[] { "--set", s })]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(expected, r.Stderr);
    }

    private static List<string> Render(string[] sets)
    {
        var r = KubeTools.Helm(["template", "rel", Repository.File("charts/fim"), "--namespace", "fim", .. sets.SelectMany(s => new[] { "--set", s })]);
        Assert.True(r.ExitCode == 0, r.Output);
        return [.. r.Stdout.Split("\n---", StringSplitOptions.RemoveEmptyEntries)];
    }
}
