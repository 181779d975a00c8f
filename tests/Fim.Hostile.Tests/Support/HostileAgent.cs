using Fim.Testing;

namespace Fim.Hostile.Tests.Support;

/// <summary>
/// The real fim-agent with its own state directory and key in a temporary directory that is removed afterwards:
/// the layout an installed agent has (state and key apart), so a test can delete, copy or restore either.
/// </summary>
public sealed class HostileAgent : IDisposable
{
    public HostileAgent()
    {
        Root = Directory.CreateTempSubdirectory("fim-hostile-").FullName;
        Files = Directory.CreateDirectory(Path.Combine(Root, "files")).FullName;
        StateDir = Path.Combine(Root, "state");
        KeyFile = Path.Combine(Root, "key", "baseline.key");
    }

    public string Root { get; }

    /// <summary>A monitored tree the test may change.</summary>
    public string Files { get; }

    public string StateDir { get; }

    public string KeyFile { get; }

    public string AnchorFile => Fim.Core.Baseline.BaselineAnchor.PathFor(KeyFile);

    public string Snapshot => Path.Combine(StateDir, "baseline.snap");

    public Dictionary<string, string> Environment(string? stateDir = null) => new()
    {
        ["FIM_STATE_DIR"] = stateDir ?? StateDir,
        ["FIM_KEY_FILE"] = KeyFile,
        ["NO_COLOR"] = "1",
    };

    /// <summary>`fim-agent scan --json &lt;args&gt;` to its end.</summary>
    public ProcessResult Scan(IEnumerable<string> args, string? stateDir = null, TimeSpan? timeout = null)
    {
        var (file, argv) = Programs.AgentCommand(["scan", "--json", .. args]);
        return ChildProcess.Run(file, argv, Environment(stateDir), timeout: timeout);
    }

    /// <summary>`fim-agent scan --json &lt;Files&gt; &lt;extra&gt;`.</summary>
    public ProcessResult ScanFiles(params string[] extra) => Scan([Files, .. extra]);

    /// <summary>A fim-agent left running (a long scan, watch); killed on dispose.</summary>
    public ChildProcess Start(IEnumerable<string> args) =>
        ChildProcess.Agent(args, Environment());

    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            if (Path.GetFileName(file) != "lock")
            {
                File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
            }
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
            // A child still exiting may hold a file for a moment; the temporary directory is only clutter.
        }
    }
}
