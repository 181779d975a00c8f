using System.Globalization;
using Fim.Contracts;
using Fim.Operator.Api;
using Fim.Operator.Controllers.Pool;
using Fim.Testing;
using k8s;
using Npgsql;

namespace Fim.Operator.Tests;

/// <summary>
/// A manager run as a real process with exactly the environment the operator renders for the chart's PostgreSQL store
/// (each secretKeyRef resolved from a Secret's data, as the kubelet does), against a real PostgreSQL and nats-server:
/// it indexes the alerts it reads, never prints the password, and exports agents by status on /metrics.
/// </summary>
public sealed class PoolStoreManagerTests
{
    private const string Password = "pool-secret-pw";
    private const int Alerts = 20;

    [Theory]
    [InlineData("connectionSecretRef")]
    [InlineData("cnpgCluster")]
    public async Task A_manager_with_the_rendered_store_env_indexes_alerts_into_PostgreSQL_and_exports_agents_by_status(string source)
    {
        await using var pg = await PostgresServer.StartAsync();
        var connection = await pg.CreateDatabaseAsync("pool_store");
        await using var nats = await NatsServer.StartAsync();

        var secrets = new Dictionary<string, Dictionary<string, string>>();
        string[] sets;
        if (source == "connectionSecretRef")
        {
            sets = ["store.backend=postgres", "store.postgres.existingSecret=fim-db"];
            secrets["fim-db"] = new() { ["connection"] = connection + ";Password=" + Password };
        }
        else
        {
            // CloudNativePG's <cluster>-app Secret; the test server has no TLS, so TLS is turned off explicitly.
            sets = ["store.backend=postgres", "store.postgres.cnpgCluster=fim-db", "store.postgres.tls.sslMode=disable"];
            secrets["fim-db-app"] = new()
            {
                ["host"] = "127.0.0.1",
                ["port"] = pg.Port.ToString(CultureInfo.InvariantCulture),
                ["dbname"] = "pool_store",
                ["username"] = "postgres",
                ["password"] = Password,
                ["uri"] = $"postgresql://postgres:{Password}@127.0.0.1:{pg.Port}/pool_store",
            };
        }

        // The chart's FimManagerPool, turned into the Deployment by the operator's own code.
        var rendered = KubeTools.Helm(["template", "rel", Repository.File("charts/fim"), "--namespace", "fim", "--api-versions", "postgresql.cnpg.io/v1/Cluster", .. sets.SelectMany(x => new[] { "--set", x })]);
        Assert.True(rendered.ExitCode == 0, rendered.Output);
        var pool = KubernetesYaml.Deserialize<FimManagerPool>(rendered.Stdout.Split("\n---", StringSplitOptions.RemoveEmptyEntries).Single(d => d.Contains("kind: FimManagerPool", StringComparison.Ordinal)));
        pool.Metadata.Uid = "uid-1";
        Assert.Empty(PoolDesiredState.SpecProblems(pool.Spec));
        var container = PoolDesiredState.Build(pool).Deployment.Spec.Template.Spec.Containers[0];
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in container.Env)
        {
            if (e.Name.StartsWith("Fim__Api__", StringComparison.Ordinal))
            {
                continue; // the pod's address, ports and TLS files: set for this host below
            }
            else if (e.Value is not null)
            {
                env[e.Name] = e.Value;
            }
            else if (e.ValueFrom?.SecretKeyRef is { } key)
            {
                env[e.Name] = secrets[key.Name][key.Key];
            }
        }
        Assert.Equal("postgres", env["Fim__Store__Backend"]);

        // What differs outside a pod: addresses and ports; a short disconnect time so the status moves within the test.
        env["Fim__Nats__Url"] = nats.Url;
        env["Fim__Api__Address"] = "127.0.0.1";
        env["Fim__Api__HttpPort"] = NatsServer.FreePort().ToString(CultureInfo.InvariantCulture);
        env["Fim__Api__GrpcPort"] = NatsServer.FreePort().ToString(CultureInfo.InvariantCulture);
        var health = NatsServer.FreePort();
        env["Fim__Api__HealthPort"] = health.ToString(CultureInfo.InvariantCulture);
        env["Fim__Fleet__DisconnectedAfter"] = "00:00:02";
        env["Fim__Sinks__Stdout__Enabled"] = "false";
        env["Fim__Telemetry__LogLevel"] = "Debug";

        using var manager = ChildProcess.Dotnet(Programs.Manager, [], env);
        await manager.AwaitLogAsync("into PostgreSQL", TimeSpan.FromSeconds(120));
        await using var client = await NatsTestClient.ConnectAsync(nats.Url);
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await client.Js.GetStreamAsync(Subjects.AlertsStream);
                return true;
            }
            catch (NATS.Client.JetStream.NatsJSApiException)
            {
                return false;
            }
        }, "FIM_ALERTS created by the manager", TimeSpan.FromSeconds(60));

        for (var i = 0; i < Alerts; i++)
        {
            var alert = Alert.For(new FileEvent
            {
                EventId = $"pool-node:boot:{i}",
                AgentId = "pool-node",
                Host = "pool-node",
                Path = $"/etc/pool-{i}",
                Kind = "modified",
                Source = "realtime",
                ObservedAt = DateTimeOffset.UtcNow,
            }, new RuleRef { Id = "550", Level = 7 }, 7, [], []);
            var ack = await client.PublishRawAsync(Subjects.Alerts(7, "pool-node"), ContractJson.ToUtf8(alert), alert.AlertId);
            Assert.Null(ack.Error);
        }

        async Task<long> RowsAsync()
        {
            await using var db = new NpgsqlConnection(connection);
            await db.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(*) FROM alerts WHERE agent_id = 'pool-node'", db);
            return (long)(await count.ExecuteScalarAsync())!;
        }

        await Eventually.TrueAsync(async () => await RowsAsync() == Alerts, $"{Alerts} alerts in the pool's PostgreSQL store\n{manager.AllOutput}", TimeSpan.FromSeconds(60));

        // Agents by status, scraped from the manager's own /metrics.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var metricsUrl = $"http://127.0.0.1:{health}/metrics";
        await client.PutHeartbeatAsync("pool-node");
        await Eventually.TrueAsync(async () => (await http.GetStringAsync(metricsUrl)).Contains("fim_agents{status=\"active\"} 1\n", StringComparison.Ordinal),
            "fim_agents{status=\"active\"} 1 after a heartbeat", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(async () =>
        {
            var text = await http.GetStringAsync(metricsUrl);
            return text.Contains("fim_agents{status=\"disconnected\"} 1\n", StringComparison.Ordinal) && text.Contains("fim_agents{status=\"active\"} 0\n", StringComparison.Ordinal);
        }, "the agent counted disconnected once its heartbeat is older than DisconnectedAfter", TimeSpan.FromSeconds(30));
        Assert.Contains("fim_agents{status=\"removed\"} 0\n", await http.GetStringAsync(metricsUrl), StringComparison.Ordinal);

        Assert.DoesNotContain(Password, manager.AllOutput, StringComparison.Ordinal);
    }
}
