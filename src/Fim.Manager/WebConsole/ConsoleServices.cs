using Fim.Manager.Security;
using MudBlazor.Services;

namespace Fim.Manager.WebConsole;

/// <summary>
/// The web console: Blazor components rendered interactively on the server, MudBlazor's components, every asset served
/// by this process (no CDN: clusters may be air-gapped). Pages need a console session (the browser login's cookie) with
/// at least the viewer role; the components call the same alert and review services as the API.
/// </summary>
public static class ConsoleServices
{
    public const string BasePath = "/console";

    public static void AddFimConsole(this WebApplicationBuilder builder)
    {
        if (!ConsoleOptions.IsEnabled(builder.Configuration))
        {
            return;
        }
        // Outside Development the host does not read the build's static asset manifest by itself; a published app has
        // the files in wwwroot and no manifest, so this does nothing there.
        builder.WebHost.UseStaticWebAssets();
        var services = builder.Services;
        services.AddRazorComponents().AddInteractiveServerComponents(o => o.DetailedErrors = false);
        services.AddCascadingAuthenticationState();
        services.AddMudServices();
        services.AddScoped<ConsoleCaller>();
        services.AddSingleton<ConsoleActions>();
        services.AddSingleton<ConsoleOverview>();
        services.AddSingleton<ConsolePolicies>();
    }

    /// <summary>After authentication and authorization: the console's forms and circuit carry antiforgery tokens, checked here.</summary>
    public static void UseFimConsole(WebApplication app)
    {
        if (ConsoleOptions.IsEnabled(app.Configuration))
        {
            app.UseAntiforgery();
        }
    }

    public static void MapFimConsole(this WebApplication app)
    {
        if (!ConsoleOptions.IsEnabled(app.Configuration))
        {
            return;
        }
        // Framework and component library files: the same bytes for everyone, needed before anyone signs in. Not counted
        // against the caller's request budget: a page load fetches a dozen, and callers behind one NAT share an address.
        app.MapStaticAssets().AllowAnonymous().DisableRateLimiting();
        app.MapRazorComponents<App>()
            .AddInteractiveServerRenderMode()
            .RequireAuthorization(Roles.ConsolePolicy);
        app.MapGet(ComplianceSearch.CsvPath, ComplianceExport.CsvAsync).RequireAuthorization(Roles.ConsolePolicy);
    }

    /// <summary>Whether a request is for the console (its pages and its circuit), where a missing session means "go and sign in".</summary>
    public static bool IsConsoleRequest(HttpRequest request) =>
        request.Path.StartsWithSegments(BasePath, StringComparison.Ordinal) || request.Path.StartsWithSegments("/_blazor", StringComparison.Ordinal)
        || request.Path.Equals("/_framework/opaque-redirect", StringComparison.Ordinal);
}
