using Fim.Manager.Options;
using Microsoft.Extensions.Options;

namespace Fim.Manager.WebConsole;

/// <summary>The web console (section Fim:Console): served under /console to browsers signed in through /login.</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Fim:Console";

    /// <summary>Unset: on exactly when the browser login is configured (Fim:Auth:Oidc:ClientId), since the console has no other sign-in.</summary>
    public bool? Enabled { get; set; }

    public static bool IsEnabled(IConfiguration config) =>
        config.GetSection(Section).Get<ConsoleOptions>()?.Enabled
        ?? (config.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions()).Oidc.BrowserLogin;
}

internal sealed class ConsoleOptionsValidator(IOptions<AuthOptions> auth) : IValidateOptions<ConsoleOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsoleOptions o) =>
        o.Enabled == true && !auth.Value.Oidc.BrowserLogin
            ? ValidateOptionsResult.Fail($"{ConsoleOptions.Section}:Enabled: the console signs users in through the browser login; "
                + "set Fim:Auth:Oidc:Authority, ClientId and ClientSecret, or leave the console off")
            : ValidateOptionsResult.Success;
}
