using System.Text;
using Fim.Manager.Tests.Support;
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
    public void NKeys_round_trip_through_their_text_form_and_sign_what_only_their_public_key_verifies()
    {
        var pair = KeyPair.CreatePair(PrefixByte.User);
        var seed = pair.GetSeed();
        var again = KeyPair.FromSeed(seed);
        var nonce = Encoding.ASCII.GetBytes("nonce-from-the-server");
        var signature = new byte[64];
        again.Sign(nonce, signature);

        Assert.StartsWith("SU", seed);
        Assert.Equal(58, seed.Length);
        Assert.StartsWith("U", pair.GetPublicKey());
        Assert.Equal(56, pair.GetPublicKey().Length);
        Assert.Equal(pair.GetPublicKey(), again.GetPublicKey());
        Assert.True(KeyPair.Verify(pair.GetPublicKey(), nonce, signature));
        Assert.False(KeyPair.Verify(KeyPair.CreatePair(PrefixByte.User).GetPublicKey(), nonce, signature));
        Assert.Equal("SA", KeyPair.CreatePair(PrefixByte.Account).GetSeed()[..2]);
    }

    [Theory]
    [InlineData("SUAM1NOTBASE32", "not base32")]
    [InlineData("SUAMLK2ZNL35WSMW37E7UD4VZ7ELPKW7DHC3BWBSD2GCZWC5YKSMNNQ2ZA", "checksum")]
    public void A_mistyped_seed_is_refused_with_what_is_wrong(string seed, string problem)
    {
        var error = Assert.Throws<NKeysException>(() => KeyPair.FromSeed(seed));
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void A_public_key_given_as_a_seed_is_refused_and_a_seed_file_without_a_seed_names_the_file()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, KeyPair.CreatePair(PrefixByte.User).GetPublicKey() + "\n");

            Assert.Contains("not an NKey seed", Assert.Throws<NKeysException>(() => KeyPair.FromSeed(KeyPair.CreatePair(PrefixByte.User).GetPublicKey())).Message);
            Assert.Contains(file + ": no NKey seed", Assert.Throws<NKeysException>(() => KeyPair.FromSeedFile(file)).Message);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
