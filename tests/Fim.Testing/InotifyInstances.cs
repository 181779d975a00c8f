namespace Fim.Testing;

/// <summary>
/// Waits until a process holds an inotify instance. A test that lowers a host-wide inotify limit for one process (the
/// kernel copies max_queued_events into an instance when it is created) restores it as soon as that process has its
/// instance, so other processes started meanwhile, by parallel suites, keep the normal limit.
/// </summary>
public static class InotifyInstances
{
    public static void AwaitIn(int pid, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        while (!Holds(pid))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"process {pid} created no inotify instance within {timeout ?? TimeSpan.FromSeconds(120)}");
            }
            Thread.Sleep(10);
        }
    }

    private static bool Holds(int pid)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Any(fd => new FileInfo(fd).LinkTarget == "anon_inode:inotify");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // the process is starting or gone; a gone process fails the caller's next wait instead
        }
    }
}
