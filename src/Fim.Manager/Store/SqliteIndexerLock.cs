namespace Fim.Manager.Store;

/// <summary>
/// Who indexes a SQLite store: the process holding an exclusive lock (flock, dropped by the kernel when the process
/// dies) on "&lt;file&gt;.indexer.lock". One writer keeps SQLite's single-writer model free of lock waits.
/// </summary>
public static class SqliteIndexerLock
{
    /// <summary>The lock, or null when another process holds it. Throws when the directory cannot be created or written.</summary>
    public static IDisposable? TryAcquire(string databaseFile)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databaseFile))!);
        try
        {
            return new FileStream(databaseFile + ".indexer.lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not DirectoryNotFoundException && File.Exists(databaseFile + ".indexer.lock"))
        {
            return null;
        }
    }
}
