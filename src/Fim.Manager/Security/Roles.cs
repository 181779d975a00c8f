namespace Fim.Manager.Security;

/// <summary>What a caller may do; each role includes the ones below it.</summary>
public enum Role
{
    None = 0,
    /// <summary>
    /// Posts security events to the ingest endpoint and nothing else: no read, so a Falco's credential cannot see or
    /// review alerts. Below viewer, so it meets no other role's requirement; the ingest endpoint takes it or analyst.
    /// </summary>
    Ingest = 1,
    /// <summary>Reads agents, alerts, counts, history and live alerts.</summary>
    Viewer = 2,
    /// <summary>Viewer, plus reviewing alerts and maintenance windows.</summary>
    Analyst = 3,
    /// <summary>Analyst, plus scans on request, removing agents and managing API tokens.</summary>
    Admin = 4,
}

/// <summary>Role names as configured and shown ("ingest", "viewer", "analyst", "admin") and the authorization policy of each.</summary>
public static class Roles
{
    public const string ViewerPolicy = "fim-viewer";
    public const string AnalystPolicy = "fim-analyst";
    public const string AdminPolicy = "fim-admin";
    /// <summary>The ingest endpoint: the ingest role, or analyst and above (a write, like a review).</summary>
    public const string IngestPolicy = "fim-ingest";
    /// <summary>The web console: a browser session (the login cookie, never a bearer token) of a caller with at least the viewer role.</summary>
    public const string ConsolePolicy = "fim-console";
    /// <summary>Any signed-in caller, whatever its role (logout).</summary>
    public const string SignedInPolicy = "fim-signed-in";

    public static string Name(Role role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string? text, out Role role)
    {
        role = text?.Trim().ToLowerInvariant() switch
        {
            "ingest" => Role.Ingest,
            "viewer" => Role.Viewer,
            "analyst" => Role.Analyst,
            "admin" => Role.Admin,
            _ => Role.None,
        };
        return role != Role.None;
    }
}
