namespace Fim.Core.Scanning;

internal enum HashOutcome
{
    Hashed,
    /// <summary>Could not be opened or read; Errno says why.</summary>
    Unreadable,
    /// <summary>Kept changing across every attempt.</summary>
    Unstable,
    /// <summary>Gone between listing and opening.</summary>
    Vanished,
    /// <summary>No longer a regular file (replaced by a FIFO, symlink, directory...).</summary>
    Replaced,
    TooLarge,
}
