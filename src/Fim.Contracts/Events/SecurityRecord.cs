using System.Text.Json.Serialization;

namespace Fim.Contracts;

/// <summary>
/// A security tool's event or finding (one JSON line of a tailed file, or one post to the manager's ingest endpoint),
/// decoded: carried by a <see cref="FileEvent"/> of kind <see cref="FileEvent.SecurityKind"/>, whose
/// <see cref="FileEvent.Source"/> is the <see cref="Format"/> and whose path names the file (or endpoint) it came from.
/// The named members are what the tools share and ECS has fields for; <see cref="Fields"/> is the whole record,
/// flattened, for rules.
/// </summary>
public sealed class SecurityRecord
{
    public const string Falco = "falco";
    public const string Prowler = "prowler";
    public const string Json = "json";

    /// <summary>The formats a source may name, in the order documentation lists them.</summary>
    public static readonly IReadOnlyList<string> Formats = [Prowler, Falco, Json];

    /// <summary>Most fields a record keeps; the rest are dropped and <see cref="FieldsTruncated"/> says so.</summary>
    public const int MaxFields = 256;

    /// <summary>Most characters of one field value; longer values are cut.</summary>
    public const int MaxValueLength = 4096;

    /// <summary>falco, prowler or json.</summary>
    public string Format { get; set; } = "";
    /// <summary>When the tool says it happened (Falco's time, Prowler's time_dt or time); absent when the record has none.</summary>
    public DateTimeOffset? Time { get; set; }
    /// <summary>Falco's rule, Prowler's finding title.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Title { get; set; }
    /// <summary>Falco's priority (Emergency..Debug), Prowler's severity (Critical..Informational), as the tool writes it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Severity { get; set; }
    /// <summary>Prowler's status_code (PASS, FAIL, MANUAL).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Status { get; set; }
    /// <summary>Falco's output, Prowler's status_detail (or message).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Message { get; set; }
    /// <summary>The resource a finding is about (Prowler's first resource uid, or its name).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Resource { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CloudProvider { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CloudAccount { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Region { get; set; }
    /// <summary>The host the tool ran on (Falco's hostname).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Hostname { get; set; }
    /// <summary>Falco's event source (syscall, k8s_audit, ...).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EventSource { get; set; }
    /// <summary>The tool's own tags (Falco's tags).</summary>
    public List<string> Tags { get; set; } = [];
    /// <summary>Every scalar of the record by its dotted path (<c>output_fields.proc.name</c>, <c>resources.0.uid</c>), in the record's order.</summary>
    public Dictionary<string, string> Fields { get; set; } = [];
    /// <summary>True when the record had more than <see cref="MaxFields"/> scalars or a value was cut.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool FieldsTruncated { get; set; }
}
