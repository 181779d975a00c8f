using Fim.Manager.Tests.Support;
using Fim.Nats;
using Fim.Testing;
using NATS.Client.Core;
using NATS.NKeys;

namespace Fim.Manager.Tests;

/// <summary>Logins other than TLS certificates, each against a real nats-server that requires it.</summary>
public sealed class NatsLoginTests
{
    [Fact]
    public async Task Manager_logs_in_with_user_and_password_and_a_wrong_password_keeps_it_unready()
    {
        await using var server = await NatsServer.StartAsync("""authorization { users = [ { user: manager, password: "pw-123456" } ] }""");

        await using (await TestManager.StartAsync(server.Url, new Dictionary<string, string?> { ["Fim:Nats:User"] = "manager", ["Fim:Nats:Password"] = "pw-123456" }))
        {
        }
        await using var refused = await TestManager.StartAsync(server.Url,
            new Dictionary<string, string?> { ["Fim:Nats:User"] = "manager", ["Fim:Nats:Password"] = "wrong-pw" }, waitReady: false);
        await Eventually.TrueAsync(() => server.Log.Contains("authentication error", StringComparison.Ordinal), () => $"the server to refuse the wrong password:\n{server.Log}");
        Assert.False(refused.Readiness.IsReady);
    }

    [Fact]
    public async Task Manager_logs_in_with_an_nkey_seed_file_and_the_server_refuses_another_key()
    {
        var allowed = KeyPair.CreatePair(PrefixByte.User);
        var other = KeyPair.CreatePair(PrefixByte.User);
        await using var server = await NatsServer.StartAsync($$"""authorization { users = [ { nkey: {{allowed.GetPublicKey()}} } ] }""");
        var seedFile = Path.Combine(server.WorkDir, "manager.nk");
        await File.WriteAllTextAsync(seedFile, allowed.GetSeed());
        var otherSeedFile = Path.Combine(server.WorkDir, "other.nk");
        await File.WriteAllTextAsync(otherSeedFile, other.GetSeed());

        await using (await TestManager.StartAsync(server.Url, new Dictionary<string, string?> { ["Fim:Nats:NKeyFile"] = seedFile }))
        {
        }
        await using var client = new NatsConnection(NatsOpts.Default with
        {
            Url = server.Url,
            AuthOpts = NatsAuthOpts.Default with { NKey = other.GetPublicKey(), Seed = other.GetSeed() },
            MaxReconnectRetry = 0,
        });
        var refused = await Assert.ThrowsAnyAsync<NatsException>(async () => await client.ConnectAsync());
        Assert.Contains("Authorization Violation", refused.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_seed_file_without_a_seed_or_with_a_mistyped_one_is_refused_naming_the_file()
    {
        var dir = Directory.CreateTempSubdirectory("fim-nkey-").FullName;
        try
        {
            var publicKeyOnly = Path.Combine(dir, "public.nk");
            File.WriteAllText(publicKeyOnly, KeyPair.CreatePair(PrefixByte.User).GetPublicKey() + "\n");
            var seed = KeyPair.CreatePair(PrefixByte.User).GetSeed();
            var mistyped = Path.Combine(dir, "mistyped.nk");
            File.WriteAllText(mistyped, seed[..^4] + (seed[^4..] == "AAAA" ? "BBBB" : "AAAA") + "\n");
            var good = Path.Combine(dir, "good.nk");
            File.WriteAllText(good, $"# written by nk -gen user\n{seed}\n");

            Assert.Contains(publicKeyOnly + ": no NKey seed", Assert.Throws<NatsLoginException>(() => NKeySeedFile.Read(publicKeyOnly)).Message);
            Assert.Contains(mistyped + ": not a valid NKey seed", Assert.Throws<NatsLoginException>(() => NKeySeedFile.Read(mistyped)).Message);
            Assert.Equal(KeyPair.FromSeed(seed).GetPublicKey(), NKeySeedFile.Read(good).GetPublicKey());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
