using Fim.Operator.Api;
using Fim.Operator.Tests.Support;
using Fim.Testing;
using k8s;
using k8s.Models;

namespace Fim.Operator.Tests;

/// <summary>
/// Acceptance 6 for the operator: the real fim-operator process at debug level (NATS and Kubernetes client libraries
/// included) with a NATS password in the URL, one in the options (FIM_NATS_PASSWORD), a wrong one, and a pool whose
/// Secrets hold a password and an NKey seed: none of them appears in its log, its errors, or any object it writes.
/// </summary>
[Collection(Serial.Name)]
public sealed class OperatorSecretsInLogsTests
{
    private const string UrlPassword = "OpUrlPw-4c7e1b";
    private const string OptionPassword = "OpOptPw-8a2d5f";
    private const string WrongPassword = "OpWrongPw-3e9b7c";
    private const string PoolNatsPassword = "PoolNatsPw-6f1a2e";

    [Fact]
    public async Task No_nats_password_or_secret_value_reaches_the_operators_log_errors_or_kubernetes_objects_at_debug_level()
    {
        await using var h = await OperatorHarness.StartAsync();
        var seed = NATS.NKeys.KeyPair.CreatePair(NATS.NKeys.PrefixByte.Account).GetSeed();
        await h.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "nats-auth" },
            StringData = new Dictionary<string, string> { ["user"] = "manager", ["password"] = PoolNatsPassword },
        }, "default");
        await h.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "fim-enrollment" },
            StringData = new Dictionary<string, string> { [PoolEnrollment.AccountSeedKey] = seed },
        }, "default");
        var pool = Samples.Pool();
        pool.Spec.Enrollment = new PoolEnrollment { SecretRef = new SecretReference { Name = "fim-enrollment" } };
        await h.Pools.CreateAsync(pool);
        await using var nats = await NatsServer.StartAsync($$"""
            authorization { users = [ { user: urlop, password: "{{UrlPassword}}" }, { user: optop, password: "{{OptionPassword}}" } ] }
            """);
        var port = new Uri(nats.Url).Port;
        var dir = Directory.CreateTempSubdirectory("fim-op-secrets-");
        var kubeconfig = h.Server.WriteKubeconfig(Path.Combine(dir.FullName, "kubeconfig"));
        var outputs = new List<string>();
        try
        {
            async Task RunAsync(string url, Dictionary<string, string> env, string[] extra)
            {
                using var op = Start(kubeconfig, url, env, extra);
                // Working: the pool's Deployment is written and the NATS connection is up (its KV bucket made).
                await Eventually.TrueAsync(async () =>
                {
                    try
                    {
                        await h.Client.AppsV1.ReadNamespacedDeploymentAsync("managers", "default");
                        return op.AllOutput.Contains("NATS KV buckets", StringComparison.Ordinal);
                    }
                    catch (k8s.Autorest.HttpOperationException)
                    {
                        return false;
                    }
                }, () => "the pool's Deployment and the NATS connection\n" + op.Output, TimeSpan.FromSeconds(90));
                op.Terminate();
                await op.WaitForExitAsync(TimeSpan.FromSeconds(30));
                outputs.Add(op.AllOutput);
            }

            // A password in the URL is refused before anything starts, without repeating it.
            using (var inUrl = Start(kubeconfig, $"nats://urlop:{UrlPassword}@127.0.0.1:{port}", [], []))
            {
                Assert.Equal(2, await inUrl.WaitForExitAsync(TimeSpan.FromSeconds(60)));
                Assert.Contains("must not hold credentials", inUrl.AllOutput);
                outputs.Add(inUrl.AllOutput);
            }
            await RunAsync(nats.Url, new() { ["FIM_NATS_PASSWORD"] = UrlPassword }, ["--nats-user", "urlop"]);
            await RunAsync(nats.Url, new() { ["FIM_NATS_PASSWORD"] = OptionPassword }, ["--nats-user", "optop"]);

            // Refused: exit 1, the error names the login method, not the password.
            using (var wrong = Start(kubeconfig, nats.Url, new() { ["FIM_NATS_PASSWORD"] = WrongPassword }, ["--nats-user", "urlop"]))
            {
                Assert.Equal(1, await wrong.WaitForExitAsync(TimeSpan.FromSeconds(90)));
                Assert.Contains("refused the login", wrong.AllOutput);
                outputs.Add(wrong.AllOutput);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }

        Assert.Contains(outputs, o => o.Contains("\"@l\":\"Debug\"", StringComparison.Ordinal));
        // Everything the operator wrote to Kubernetes: the pool (status), its children, events.
        var written = new List<string>
        {
            KubernetesJson.Serialize(await h.Client.AppsV1.ListNamespacedDeploymentAsync("default")),
            KubernetesJson.Serialize(await h.Client.CoreV1.ListNamespacedServiceAsync("default")),
            KubernetesJson.Serialize(await h.Client.CoreV1.ListEventForAllNamespacesAsync()),
            KubernetesJson.Serialize(await h.Pools.GetAsync<FimManagerPool>("managers")),
        };
        foreach (var secret in new[] { UrlPassword, OptionPassword, WrongPassword, PoolNatsPassword, seed, seed[..20] })
        {
            foreach (var (what, text) in outputs.Select((o, i) => ($"output of run {i}", o)).Concat(written.Select((w, i) => ($"Kubernetes object list {i}", w))))
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"a secret ({secret[..6]}...) is in the {what}:\n{text}");
            }
        }
    }

    private static ChildProcess Start(string kubeconfig, string natsUrl, Dictionary<string, string> env, string[] extra) =>
        ChildProcess.Dotnet(Repository.BuiltDll("Fim.Operator", "fim-operator.dll"),
            [
                "run", "--kubeconfig", kubeconfig, "--nats-url", natsUrl, "--no-leader-election",
                "--metrics-bind-address", "127.0.0.1:0", "--health-bind-address", $"127.0.0.1:{NatsServer.FreePort()}", .. extra,
            ],
            new Dictionary<string, string>(env) { ["FIM_LOG_LEVEL"] = "debug", ["POD_NAME"] = "op-secrets" });
}
