namespace Fim.Manager.Security;

/// <summary>What a caller may do; each role includes the ones below it.</summary>
public enum Role
{
    None = 0,
    /// <summary>Reads agents, alerts, counts, history and live alerts.</summary>
    Viewer = 1,
    /// <summary>Viewer, plus reviewing alerts and maintenance windows.</summary>
    Analyst = 2,
    /// <summary>Analyst, plus scans on request, removing agents and managing API tokens.</summary>
    Admin = 3,
}

/// <summary>Role names as configured and shown ("viewer", "analyst", "admin") and the authorization policy of each.</summary>
public static class Roles
{
    public const string ViewerPolicy = "fim-viewer";
    public const string AnalystPolicy = "fim-analyst";
    public const string AdminPolicy = "fim-admin";
    /// <summary>The web console: a browser session (the login cookie, never a bearer token) of a caller with at least the viewer role.</summary>
    public const string ConsolePolicy = "fim-console";
    /// <summary>Any signed-in caller, whatever its role (logout).</summary>
    public const string SignedInPolicy = "fim-signed-in";

    public static string Name(Role role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string? text, out Role role)
    {
        role = text?.Trim().ToLowerInvariant() switch
        {
            "viewer" => Role.Viewer,
            "analyst" => Role.Analyst,
            "admin" => Role.Admin,
            _ => Role.None,
        };
        return role != Role.None;
    }
}
