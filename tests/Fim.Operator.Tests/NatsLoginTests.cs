using System.Text;
using Fim.Contracts;
using Fim.Nats;
using Fim.Operator.Nats;
using Fim.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.NKeys;

namespace Fim.Operator.Tests;

/// <summary>The operator logs in with an NKey seed file or a creds file, each against a real nats-server that requires it.</summary>
public sealed class NatsLoginTests
{
    [Fact]
    public async Task Operator_logs_in_with_an_nkey_seed_file_and_its_stores_work()
    {
        var key = KeyPair.CreatePair(PrefixByte.User);
        await using var server = await NatsServer.StartAsync($$"""authorization { users = [ { nkey: {{key.GetPublicKey()}} } ] }""");
        var seedFile = Path.Combine(server.WorkDir, "operator.nk");
        await File.WriteAllTextAsync(seedFile, key.GetSeed() + "\n");

        var options = OperatorProgram.Parse(["--nats-url", server.Url, "--nats-nkey-file", seedFile, "--no-leader-election"]);

        Assert.Empty(options.Validate());
        await StoresWorkAsync(options.Nats);
    }

    [Fact]
    public async Task Operator_logs_in_with_a_creds_file_against_a_server_in_operator_mode_and_its_stores_work()
    {
        var accounts = new NatsJwtAccounts();
        await using var server = await NatsServer.StartAsync(accounts.ServerConfig());
        var creds = accounts.WriteUserCreds(Path.Combine(server.WorkDir, "operator.creds"), "fim-operator");

        var options = OperatorProgram.Parse(["--nats-url", server.Url, "--nats-creds-file", creds, "--no-leader-election"]);

        Assert.Empty(options.Validate());
        await StoresWorkAsync(options.Nats);
        // A client without the creds is not let in: the server really checks them.
        await using var anonymous = new NatsConnection(NatsOpts.Default with { Url = server.Url, MaxReconnectRetry = 0 });
        await Assert.ThrowsAnyAsync<NatsException>(async () => await anonymous.ConnectAsync());
    }

    [Fact]
    public async Task A_seed_the_server_does_not_know_is_refused_with_an_error_naming_the_file_and_its_public_key()
    {
        var allowed = KeyPair.CreatePair(PrefixByte.User);
        var wrong = KeyPair.CreatePair(PrefixByte.User);
        await using var server = await NatsServer.StartAsync($$"""authorization { users = [ { nkey: {{allowed.GetPublicKey()}} } ] }""");
        var seedFile = Path.Combine(server.WorkDir, "wrong.nk");
        await File.WriteAllTextAsync(seedFile, wrong.GetSeed());
        var options = OperatorProgram.Parse(["--nats-url", server.Url, "--nats-nkey-file", seedFile]);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var error = await Assert.ThrowsAsync<NatsLoginException>(() => NatsConnectionFactory.ConnectAsync(options.Nats, null, deadline.Token));

        Assert.Contains($"refused the login (NKey seed file {seedFile}", error.Message);
        Assert.Contains(wrong.GetPublicKey(), error.Message);
        Assert.DoesNotContain(wrong.GetSeed(), error.Message);
    }

    [Fact]
    public async Task The_operator_process_exits_non_zero_saying_which_login_nats_refused()
    {
        var allowed = KeyPair.CreatePair(PrefixByte.User);
        await using var server = await NatsServer.StartAsync($$"""authorization { users = [ { nkey: {{allowed.GetPublicKey()}} } ] }""");
        var seedFile = Path.Combine(server.WorkDir, "wrong.nk");
        await File.WriteAllTextAsync(seedFile, KeyPair.CreatePair(PrefixByte.User).GetSeed());
        // Never contacted: the operator fails at the NATS login, before its first Kubernetes call.
        var kubeconfig = Path.Combine(server.WorkDir, "kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, """
            apiVersion: v1
            kind: Config
            clusters: [ { name: none, cluster: { server: "https://127.0.0.1:1" } } ]
            users: [ { name: none, user: { token: none } } ]
            contexts: [ { name: none, context: { cluster: none, user: none } } ]
            current-context: none
            """);

        using var op = ChildProcess.Dotnet(Repository.BuiltDll("Fim.Operator", "fim-operator.dll"),
            ["run", "--kubeconfig", kubeconfig, "--nats-url", server.Url, "--nats-nkey-file", seedFile, "--no-leader-election", "--metrics-port", "0"]);
        var exit = await op.WaitForExitAsync(TimeSpan.FromSeconds(90));

        Assert.True(exit == 1, $"exit code {exit}\n{op.Output}");
        Assert.Contains($"refused the login (NKey seed file {seedFile}", op.Output);
    }

    private static async Task StoresWorkAsync(NatsClientOptions options)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var nats = await NatsConnectionFactory.ConnectAsync(options, null, deadline.Token);
        var policies = new NatsPolicyStore(await NatsBuckets.OpenAsync(nats, Subjects.PoliciesBucket, deadline.Token));
        await policies.PutAsync("fim.default.web", Encoding.UTF8.GetBytes("{\"revision\":3}"), deadline.Token);

        Assert.Equal("{\"revision\":3}", Encoding.UTF8.GetString((await policies.GetAsync("fim.default.web", deadline.Token))!));
        Assert.Equal(["fim.default.web"], await policies.KeysAsync(deadline.Token));

        var agentsBucket = await NatsBuckets.OpenAsync(nats, Subjects.AgentsBucket, deadline.Token);
        var agents = new NatsAgentDirectory(agentsBucket, NullLogger.Instance);
        var watching = agents.RunAsync(deadline.Token);
        await agentsBucket.PutAsync("web-01", ContractJson.ToUtf8(TestHeartbeats.Make("web-01", new Dictionary<string, string> { ["env"] = "prod" })), cancellationToken: deadline.Token);
        await Eventually.TrueAsync(() => agents.Agents.Any(a => a.AgentId == "web-01"), "the directory shows web-01's heartbeat");
        await deadline.CancelAsync();
        await watching;
    }
}
