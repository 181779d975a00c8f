namespace Fim.Manager.Enrollment;

/// <summary>
/// Agent enrollment and event provenance (section Fim:Enrollment). With <see cref="Enabled"/> the manager answers
/// enrollment requests and issues agents' user JWTs with the account key; revocations are pushed to NATS as a new
/// account JWT signed with the operator key, through a system-account user.
/// </summary>
public sealed class EnrollmentOptions
{
    public const string Section = "Fim:Enrollment";

    public bool Enabled { get; set; }
    /// <summary>NKey seed (SO...) of the operator (or an operator signing key): signs the account JWT with its revocations.</summary>
    public string? OperatorSeedFile { get; set; }
    /// <summary>NKey seed (SA...) of FIM's account: signs agents' and join tokens' user JWTs.</summary>
    public string? AccountSeedFile { get; set; }
    /// <summary>Creds file of a system-account user: sends account JWT updates ($SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE).</summary>
    public string? SystemCredsFile { get; set; }
    /// <summary>Refuse unsigned events even from agents that never enrolled (a fleet that uses enrollment only).</summary>
    public bool RequireSignatures { get; set; }
    /// <summary>How long an event id is remembered with its content digest (reuse with other content is a conflict).</summary>
    public TimeSpan EventIdWindow { get; set; } = TimeSpan.FromDays(2);
    /// <summary>
    /// A join token minted by `fim-manager enrollment-init` (the one the chart's DaemonSet reads from a Secret): registered
    /// at start, once, with <see cref="JoinTokenFileUses"/> uses and <see cref="JoinTokenFileTtl"/> from then on.
    /// </summary>
    public string? JoinTokenFile { get; set; }
    public int JoinTokenFileUses { get; set; } = 10000;
    public TimeSpan JoinTokenFileTtl { get; set; } = TimeSpan.FromDays(365);
    /// <summary>Join tokens: uses and lifetime when fimctl does not say.</summary>
    public int DefaultTokenUses { get; set; } = 1;
    public TimeSpan DefaultTokenTtl { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>Says what is wrong with the section, naming the key.</summary>
public sealed class EnrollmentOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<EnrollmentOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, EnrollmentOptions o)
    {
        var failures = new List<string>();
        if (o.Enabled)
        {
            foreach (var (key, file) in new[] { ("OperatorSeedFile", o.OperatorSeedFile), ("AccountSeedFile", o.AccountSeedFile), ("SystemCredsFile", o.SystemCredsFile) })
            {
                if (string.IsNullOrWhiteSpace(file))
                {
                    failures.Add($"{EnrollmentOptions.Section}:{key}: required when enrollment is enabled");
                }
                else if (!File.Exists(file))
                {
                    failures.Add($"{EnrollmentOptions.Section}:{key}: file {file} does not exist");
                }
            }
        }
        if (o.JoinTokenFile is { } joinTokenFile)
        {
            if (!o.Enabled)
            {
                failures.Add($"{EnrollmentOptions.Section}:JoinTokenFile: needs {EnrollmentOptions.Section}:Enabled");
            }
            else if (!File.Exists(joinTokenFile))
            {
                failures.Add($"{EnrollmentOptions.Section}:JoinTokenFile: file {joinTokenFile} does not exist");
            }
            else
            {
                try
                {
                    JoinTokenFile.Read(joinTokenFile);
                }
                catch (FormatException e)
                {
                    // The parser's message names what is wrong and never repeats the token.
                    failures.Add($"{EnrollmentOptions.Section}:JoinTokenFile: file {joinTokenFile}: {e.Message}");
                }
            }
            if (o.JoinTokenFileUses < 1)
            {
                failures.Add($"{EnrollmentOptions.Section}:JoinTokenFileUses: at least 1");
            }
            if (o.JoinTokenFileTtl <= TimeSpan.Zero)
            {
                failures.Add($"{EnrollmentOptions.Section}:JoinTokenFileTtl: must be positive");
            }
        }
        if (o.EventIdWindow < TimeSpan.FromMinutes(1))
        {
            failures.Add($"{EnrollmentOptions.Section}:EventIdWindow: at least one minute");
        }
        if (o.DefaultTokenUses < 1)
        {
            failures.Add($"{EnrollmentOptions.Section}:DefaultTokenUses: at least 1");
        }
        if (o.DefaultTokenTtl <= TimeSpan.Zero)
        {
            failures.Add($"{EnrollmentOptions.Section}:DefaultTokenTtl: must be positive");
        }
        return failures.Count == 0 ? Microsoft.Extensions.Options.ValidateOptionsResult.Success : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(failures);
    }
}
