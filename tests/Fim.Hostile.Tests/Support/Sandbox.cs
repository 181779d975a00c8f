namespace Fim.Hostile.Tests.Support;

/// <summary>
/// A temporary directory holding a tree to monitor, a state directory and a key file outside it; removed on
/// dispose. Every directory is open to all users, so the agent can also run as nobody (uid 65534): the suite runs
/// as root, and root reads everything, so "unreadable" needs an unprivileged agent.
/// </summary>
public sealed class Sandbox : IDisposable
{
    public const string Nobody = "65534";

    public Sandbox(string name)
    {
        Root = Path.Combine(Path.GetTempPath(), $"fim-hostile-{name}-{Guid.NewGuid():N}"[..40]);
        Tree = Path.Combine(Root, "tree");
        State = Path.Combine(Root, "state");
        KeyFile = Path.Combine(Root, "keys", "baseline.key");
        Directory.CreateDirectory(Tree);
        Open(Root);
        Open(Tree);
    }

    public string Root { get; }
    public string Tree { get; }
    public string State { get; }
    public string KeyFile { get; }

    public string[] StateArgs => ["--state", State, "--key-file", KeyFile];

    public string this[string relative] => Path.Combine(Tree, relative);

    public string Write(string relative, string content = "x")
    {
        var path = this[relative];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>rwx for everyone: an unprivileged agent may traverse and write it.</summary>
    public static void Open(string directory) => File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
