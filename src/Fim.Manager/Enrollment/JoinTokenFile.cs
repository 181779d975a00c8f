using Fim.Contracts;
using Fim.Nats;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Enrollment;

/// <summary>
/// Registers <see cref="EnrollmentOptions.JoinTokenFile"/> at start, so agents of a Helm-installed system enroll with the
/// token from their Secret without anyone calling `fimctl join-token create`. Registered once: revoking it
/// (`fimctl join-token revoke`) holds across restarts; rotate by minting a new one into the Secrets.
/// </summary>
public sealed class JoinTokenFile(JoinTokens tokens, IOptions<EnrollmentOptions> options, TimeProvider time, ILogger<JoinTokenFile> log) : BackgroundService
{
    public const string Description = "join token file (Fim:Enrollment:JoinTokenFile)";

    public static JoinToken Read(string file) => JoinToken.Parse(File.ReadAllText(file));

    public async Task<bool> RegisterAsync(CancellationToken ct)
    {
        var o = options.Value;
        if (!o.Enabled || o.JoinTokenFile is not { } file)
        {
            return false;
        }
        var token = Read(file);
        if (await tokens.RegisterAsync(token, o.JoinTokenFileUses, o.JoinTokenFileTtl, Description, ct))
        {
            log.LogInformation("Registered {Token} from {File}: {Uses} uses, expires in {Ttl}", token.ToString(), file, o.JoinTokenFileUses, o.JoinTokenFileTtl);
            return true;
        }
        log.LogDebug("{Token} from {File} is registered already", token.ToString(), file);
        return false;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled || options.Value.JoinTokenFile is null)
        {
            return Task.CompletedTask;
        }
        var retry = RetryForever.Create("registering the join token file", RetryBackoff.Constant(TimeSpan.FromSeconds(2)), log, time);
        return retry.UntilDoneAsync(async ct => await RegisterAsync(ct), stoppingToken);
    }
}
