using Fim.Manager.Enrollment;
using Fim.Manager.Security;
using Fim.Nats.Identity;

namespace Fim.Manager.Setup;

/// <summary>
/// The few one-shot commands of fim-manager, for setting a site up; with no command it runs the manager. They print
/// file names and next steps, never a secret, except `bootstrap-token`, whose output is the secret (pipe it to a file).
/// </summary>
public static class ManagerCommands
{
    public const string Usage = """
        fim-manager                      run the manager (settings: appsettings.json, Fim__* environment, --Fim:Key=value)
        fim-manager bootstrap-token      print a new API token for Fim:Auth:Tokens:BootstrapTokenFile (the first admin without an IdP)
        fim-manager enrollment-init --out <dir> [--resolver-dir <dir>]
                                         make the NATS operator/account keys, creds for managers and the operator, the
                                         nats-server configuration block and a join token for the agents' DaemonSet
        """;

    public static readonly string[] EnrollmentFiles =
        ["operator.nk", "account.nk", "system.creds", "manager.creds", "operator.creds", "nats-operator.conf", "join-token"];

    /// <summary>The exit code of the command in <paramref name="args"/>, or null when they name none (run the manager).</summary>
    public static int? TryRun(string[] args, TextWriter stdout, TextWriter stderr)
    {
        switch (args)
        {
            case ["bootstrap-token"]:
                stdout.WriteLine(ApiTokenFormat.New().Token);
                return 0;
            case ["enrollment-init", .. var rest]:
                return EnrollmentInit(rest, stdout, stderr);
            case ["help" or "--help" or "-h"]:
                stdout.WriteLine(Usage);
                return 0;
            default:
                return null;
        }
    }

    private static int EnrollmentInit(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? dir = null;
        string? resolverDir = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out" when i + 1 < args.Length:
                    dir = args[++i];
                    break;
                case "--resolver-dir" when i + 1 < args.Length:
                    resolverDir = args[++i];
                    break;
                default:
                    stderr.WriteLine($"fim-manager enrollment-init: unknown or incomplete argument '{args[i]}'\n{Usage}");
                    return 2;
            }
        }
        if (dir is null)
        {
            stderr.WriteLine("fim-manager enrollment-init: --out <dir> is required");
            return 2;
        }
        Directory.CreateDirectory(dir);
        if (EnrollmentFiles.FirstOrDefault(f => File.Exists(Path.Combine(dir, f))) is { } existing)
        {
            stderr.WriteLine($"fim-manager enrollment-init: {Path.Combine(dir, existing)} exists; keys are never overwritten (use a new directory)");
            return 3;
        }
        var setup = new NatsOperatorSetup();
        var now = DateTimeOffset.UtcNow;
        var files = new Dictionary<string, string>
        {
            ["operator.nk"] = setup.Operator.GetSeed() + "\n",
            ["account.nk"] = setup.Account.GetSeed() + "\n",
            ["system.creds"] = setup.SystemUserCreds(),
            ["manager.creds"] = setup.UnrestrictedUserCreds("fim-manager"),
            ["operator.creds"] = setup.UnrestrictedUserCreds("fim-operator"),
            ["nats-operator.conf"] = setup.ServerConfig(resolverDir) + "\n",
            ["join-token"] = JoinTokens.Mint(setup.Issuer, now).Encode() + "\n",
        };
        foreach (var (name, text) in files)
        {
            // 0600 from the first byte: seeds and creds are never readable by others, not even for a moment.
            using var stream = new FileStream(Path.Combine(dir, name), new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            using var writer = new StreamWriter(stream);
            writer.Write(text);
        }
        stdout.WriteLine($"""
            Wrote {string.Join(", ", EnrollmentFiles)} to {dir} (mode 0600). Account {setup.AccountPublicKey}.
            nats-server: include nats-operator.conf in its configuration (operator/JWT mode).
            Kubernetes (the chart's managerPool.enrollment and agent.enrollment):
              kubectl create secret generic fim-enrollment --from-file={dir}/operator.nk --from-file={dir}/account.nk --from-file={dir}/system.creds --from-file={dir}/manager.creds --from-file={dir}/operator.creds --from-file=token={dir}/join-token
              kubectl create secret generic fim-agent-join-token --from-file=token={dir}/join-token
            Keep operator.nk and account.nk offline once the Secret exists.
            """);
        return 0;
    }
}
