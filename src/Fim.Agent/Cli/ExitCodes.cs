namespace Fim.Agent.Cli;

/// <summary>
/// Exit codes follow AIDE's: the low bits say what changed (they combine), 14 and up are errors.
/// Documented in README and `fim-agent --help`.
/// </summary>
public static class ExitCodes
{
    public const int NoChanges = 0;
    public const int Added = 1;
    public const int Deleted = 2;
    public const int Changed = 4;

    /// <summary>The baseline could not be written (disk full, read-only file system); the previous one is intact.</summary>
    public const int BaselineWriteError = 14;
    /// <summary>Bad command-line usage.</summary>
    public const int InvalidArgument = 15;
    /// <summary>A path to monitor does not exist (and nothing was recorded under it before).</summary>
    public const int PathNotFound = 16;
    /// <summary>The policy file is missing, unreadable or invalid.</summary>
    public const int InvalidPolicy = 17;
    /// <summary>A path to monitor, or content below it, cannot be read (permission denied, I/O error).</summary>
    public const int PathUnreadable = 18;
    /// <summary>
    /// The baseline is refused: it fails its integrity check (edited, truncated, sealed with another key), the anchor
    /// beside the key says it is missing, older or foreign, or the key file cannot be trusted.
    /// </summary>
    public const int BaselineIntegrity = 19;
    /// <summary>Another agent holds the state directory.</summary>
    public const int BaselineLocked = 20;
    /// <summary>An unexpected internal error; the message says where.</summary>
    public const int InternalError = 21;
    /// <summary>`fim-agent enroll`: the manager refused the enrollment (token expired, used up, revoked, unknown; id taken) or could not be reached.</summary>
    public const int EnrollmentRefused = 22;

    public const string HelpText = """
        Exit codes (like AIDE's):
          0   no change
          1   entries added        (bits combine: 1|2|4 = 7 means added, deleted and changed)
          2   entries deleted
          4   entries changed (modified, attributes, type-changed)
          14  the baseline could not be written (e.g. disk full); the previous baseline is intact
          15  invalid command-line arguments
          16  a path to monitor does not exist
          17  invalid policy file (the message names the key and line)
          18  a path to monitor, or content below it, cannot be read (changes found are still reported)
          19  the baseline is refused: tampered, truncated, another key, or missing, older or
              foreign by the anchor beside the key (--rebaseline accepts a new one); or the key
              file is unusable (wrong size, not 0600, another owner)
          20  the state directory is in use by another fim-agent
          21  internal error
          22  enrollment refused or impossible (the message says why: token expired, used up, revoked, ...)
          130 interrupted by SIGINT, 143 by SIGTERM: nothing recorded for the interrupted scan
        """;
}
