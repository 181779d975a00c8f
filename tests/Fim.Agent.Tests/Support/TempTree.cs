namespace Fim.Agent.Tests.Support;

/// <summary>A temporary directory with a tree to monitor, a state dir and a key file outside it; removed on dispose.</summary>
public sealed class TempTree : IDisposable
{
    public TempTree(string? name = null)
    {
        Root = Path.Combine(Path.GetTempPath(), $"fim-{name ?? "t"}-{Guid.NewGuid():N}"[..32]);
        Directory.CreateDirectory(Root);
        Tree = Path.Combine(Root, "tree");
        Directory.CreateDirectory(Tree);
        State = Path.Combine(Root, "state");
        KeyFile = Path.Combine(Root, "keys", "baseline.key");
    }

    public string Root { get; }
    public string Tree { get; }
    public string State { get; }
    public string KeyFile { get; }

    public string this[string relative] => Path.Combine(Tree, relative);

    public string[] StateArgs => ["--state", State, "--key-file", KeyFile];

    public string Write(string relative, string content)
    {
        var path = this[relative];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public static void Sh(string file, params string[] args) => Fim.Testing.ChildProcess.Run(file, args).EnsureSuccess();

    /// <summary>Waits (with a deadline) until the wall clock has entered a later second than <paramref name="since"/>.</summary>
    public static void AwaitNextSecond(DateTime since)
    {
        var deadline = DateTime.UtcNow.AddSeconds(3);
        var target = new DateTime(since.Ticks - since.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc).AddSeconds(1);
        while (DateTime.UtcNow < target)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("clock did not advance");
            }
            // Waiting on the wall clock is the point: the caller needs an mtime in a later second. Nothing is asserted on timing.
            Thread.Sleep(target - DateTime.UtcNow is { TotalMilliseconds: > 0 } wait ? wait : TimeSpan.Zero);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
