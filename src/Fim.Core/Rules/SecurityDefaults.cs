using Fim.Contracts;
using Fim.Core.Model;

namespace Fim.Core.Rules;

/// <summary>
/// The default rules for security records, after the file rules (a user rule before them can raise, lower or silence
/// any): Falco priorities and the severities of failed Prowler checks to levels, passed Prowler checks stored but sent
/// to no sink, anything else at a low level so nothing a source sends is dropped unseen.
/// </summary>
public static class SecurityDefaults
{
    private static readonly IReadOnlyList<ChangeKind> Security = [ChangeKind.Security];

    private static FieldCondition Is(string field, params string[] values) =>
        new() { Field = field, Test = values.Length == 1 ? FieldTest.Equals : FieldTest.OneOf, Values = values };

    private static AlertRule Falco(string id, int level, string[] priorities) => new()
    {
        Id = id,
        Level = level,
        Kinds = Security,
        Formats = [SecurityRecord.Falco],
        Fields = [Is("priority", priorities)],
        Description = $"Falco {priorities[0]} event.",
    };

    private static AlertRule FailedProwler(string id, int level, string severity) => new()
    {
        Id = id,
        Level = level,
        Kinds = Security,
        Formats = [SecurityRecord.Prowler],
        Fields = [Is("status_code", "FAIL"), Is("severity", severity)],
        Description = $"Prowler check failed ({severity}).",
    };

    /// <summary>Falco priority (as Falco writes it) to level, highest first.</summary>
    public static readonly IReadOnlyList<(string Priority, int Level)> FalcoLevels =
        [("Emergency", 15), ("Alert", 14), ("Critical", 13), ("Error", 11), ("Warning", 8), ("Notice", 5), ("Informational", 3), ("Debug", 2)];

    /// <summary>Prowler severity of a failed check to level, highest first.</summary>
    public static readonly IReadOnlyList<(string Severity, int Level)> ProwlerLevels =
        [("Critical", 13), ("High", 11), ("Medium", 8), ("Low", 5), ("Informational", 3)];

    public static readonly IReadOnlyList<AlertRule> Rules =
    [
        Falco("700", 15, ["Emergency"]),
        Falco("701", 14, ["Alert"]),
        Falco("702", 13, ["Critical"]),
        Falco("703", 11, ["Error"]),
        Falco("704", 8, ["Warning"]),
        Falco("705", 5, ["Notice"]),
        // Falco's enum says Informational; some outputs shorten it to Info.
        Falco("706", 3, ["Informational", "Info"]),
        Falco("707", 2, ["Debug"]),
        new() { Id = "709", Level = 5, Kinds = Security, Formats = [SecurityRecord.Falco], Description = "Falco event of an unknown priority." },
        FailedProwler("720", 13, "Critical"),
        FailedProwler("721", 11, "High"),
        FailedProwler("722", 8, "Medium"),
        FailedProwler("723", 5, "Low"),
        FailedProwler("724", 3, "Informational"),
        new() { Id = "725", Level = 5, Kinds = Security, Formats = [SecurityRecord.Prowler], Fields = [Is("status_code", "FAIL")], Description = "Prowler check failed (unknown severity)." },
        new() { Id = "726", Level = 1, Notify = false, Kinds = Security, Formats = [SecurityRecord.Prowler], Fields = [Is("status_code", "PASS")], Description = "Prowler check passed." },
        new() { Id = "727", Level = 3, Kinds = Security, Formats = [SecurityRecord.Prowler], Description = "Prowler finding to review (neither passed nor failed)." },
        new() { Id = "740", Level = 3, Kinds = Security, Description = "JSON event." },
    ];
}
