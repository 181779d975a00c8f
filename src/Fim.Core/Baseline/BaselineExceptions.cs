namespace Fim.Core.Baseline;

/// <summary>What made a stored baseline untrustworthy.</summary>
public enum BaselineIntegrityProblem
{
    /// <summary>Content does not match its seal, or is not a well-formed store: modified out of band, or damaged.</summary>
    Tampered,
    /// <summary>The snapshot ends before its seal.</summary>
    Truncated,
    /// <summary>Sealed with another key than the one given.</summary>
    WrongKey,
    /// <summary>Written in a format this agent does not read (a newer agent?).</summary>
    UnsupportedFormat,
    /// <summary>A journal exists without the snapshot it extends: the snapshot was removed.</summary>
    MissingSnapshot,
    /// <summary>No baseline, but the anchor beside the key says one was saved: it was deleted.</summary>
    Missing,
    /// <summary>An older copy of this host's baseline than the anchor remembers (restored or replayed).</summary>
    Older,
    /// <summary>Not the baseline the anchor remembers for this state directory (copied from another host or directory).</summary>
    Foreign,
}

/// <summary>Why a baseline was replaced by a new one, for the event that reports it.</summary>
/// <param name="Reason">missing, older, foreign or requested (--rebaseline).</param>
/// <param name="Detail">What was found, in words.</param>
/// <param name="Previous">What the anchor remembered of the baseline that was replaced, if anything.</param>
public sealed record BaselineReset(string Reason, string Detail, AnchorEntry? Previous)
{
    public const string Requested = "requested";

    public static string ReasonOf(BaselineIntegrityProblem problem) => problem switch
    {
        BaselineIntegrityProblem.Missing => "missing",
        BaselineIntegrityProblem.Older => "older",
        BaselineIntegrityProblem.Foreign => "foreign",
        _ => "damaged",
    };
}

/// <summary>The stored baseline failed verification and is refused; the message says what is wrong and how to re-baseline.</summary>
public class BaselineIntegrityException : Exception
{
    public const string RebaselineHint =
        "If you did not expect this, investigate the host before anything else. To re-baseline (discard the stored " +
        "baseline and record the current state of the files as the new one), run `fim-agent scan --rebaseline`.";

    public BaselineIntegrityException(string filePath, BaselineIntegrityProblem problem, string detail, Exception? inner = null)
        : base($"The baseline {filePath} is refused: {detail}. {RebaselineHint}", inner)
    {
        FilePath = filePath;
        Problem = problem;
        Detail = detail;
    }

    public string FilePath { get; }

    /// <summary>What is wrong, without the advice that follows it in the message.</summary>
    public string Detail { get; }

    public BaselineIntegrityProblem Problem { get; }
}

/// <summary>Writing the baseline failed (disk full, I/O error, permissions); the previous baseline on disk is intact.</summary>
public class BaselineWriteException : Exception
{
    public BaselineWriteException(string filePath, string message, Exception? inner)
        : base(message, inner)
    {
        FilePath = filePath;
    }

    public string FilePath { get; }

    /// <summary>True when the cause was ENOSPC or EDQUOT.</summary>
    public bool IsDiskFull => InnerException is IOException { HResult: Errno.ENOSPC or Errno.EDQUOT };

    internal static BaselineWriteException From(string filePath, Exception inner, string consequence)
    {
        var cause = inner is IOException { HResult: Errno.ENOSPC or Errno.EDQUOT }
            ? "no space left on device"
            : inner.Message;
        return new BaselineWriteException(filePath, $"Could not write {filePath}: {cause}. {consequence}", inner);
    }
}

/// <summary>Another process (another agent) holds the state directory.</summary>
public class BaselineLockedException : Exception
{
    public BaselineLockedException(string stateDirectory, Exception? inner)
        : base($"The baseline state directory {stateDirectory} is locked by another process: is another fim-agent running with the same state directory?", inner)
    {
        StateDirectory = stateDirectory;
    }

    public string StateDirectory { get; }
}

/// <summary>The key file cannot be used (wrong size, unreadable).</summary>
public class BaselineKeyException : Exception
{
    public BaselineKeyException(string keyFile, string message, Exception? inner = null)
        : base(message, inner)
    {
        KeyFile = keyFile;
    }

    public string KeyFile { get; }
}

/// <summary>The errno values .NET reports as <see cref="Exception.HResult"/> of an <see cref="IOException"/> on Linux.</summary>
internal static class Errno
{
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ENOSPC = 28;
    public const int EDQUOT = 122;
}
