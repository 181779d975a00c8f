using Fim.Nats.Identity;

namespace Fim.Testing;

/// <summary>
/// A nats-server in decentralized (operator/JWT) mode for creds-file logins, set up by the product's own
/// <see cref="NatsOperatorSetup"/>: an operator, a system account and FIM's account with JetStream allowed.
/// </summary>
public sealed class NatsJwtAccounts
{
    public NatsOperatorSetup Setup { get; } = new();

    public string AccountPublicKey => Setup.AccountPublicKey;

    /// <summary>The server configuration block: the operator JWT and both accounts preloaded into a memory resolver.</summary>
    public string ServerConfig() => Setup.ServerConfig();

    /// <summary>Writes a creds file for a new user of FIM's account without subject limits.</summary>
    public string WriteUserCreds(string path, string name)
    {
        File.WriteAllText(path, Setup.UnrestrictedUserCreds(name));
        return path;
    }

    /// <summary>Writes what an enrolling manager needs (operator seed, account seed, system-user creds) into <paramref name="dir"/>; returns its settings.</summary>
    public Dictionary<string, string?> WriteEnrollmentFiles(string dir)
    {
        var operatorSeed = Path.Combine(dir, "operator.nk");
        var accountSeed = Path.Combine(dir, "account.nk");
        var system = Path.Combine(dir, "system.creds");
        File.WriteAllText(operatorSeed, Setup.Operator.GetSeed() + "\n");
        File.WriteAllText(accountSeed, Setup.Account.GetSeed() + "\n");
        File.WriteAllText(system, Setup.SystemUserCreds());
        return new Dictionary<string, string?>
        {
            ["Fim:Nats:CredsFile"] = WriteUserCreds(Path.Combine(dir, "manager.creds"), "fim-manager"),
            ["Fim:Enrollment:Enabled"] = "true",
            ["Fim:Enrollment:OperatorSeedFile"] = operatorSeed,
            ["Fim:Enrollment:AccountSeedFile"] = accountSeed,
            ["Fim:Enrollment:SystemCredsFile"] = system,
        };
    }
}
