using Fim.Testing;

namespace Fim.Agent.Tests.Support;

/// <summary>AIDE 0.18 as the oracle: init and check on a tree with p+i+n+u+g+s+m+c+sha256+ftype+l, report parsed.</summary>
public sealed class Aide(string workDir, string tree)
{
    private string Conf => Path.Combine(workDir, "aide.conf");
    private string Db => Path.Combine(workDir, "aide.db");

    public static bool Available => File.Exists("/usr/bin/aide");

    public void Init()
    {
        File.WriteAllText(Conf, $"""
            database_in=file:{Db}
            database_out=file:{Db}.new
            gzip_dbout=no
            report_url=stdout
            report_level=list_entries
            FIM = p+i+n+u+g+s+m+c+sha256+ftype+l
            {tree} FIM
            """);
        var r = Run("--init");
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"aide --init failed: {r}");
        }
        File.Move(Db + ".new", Db, overwrite: true);
    }

    /// <summary>(path, "added" | "deleted" | "changed") for every entry aide --check lists.</summary>
    public HashSet<(string Path, string Class)> Check()
    {
        var r = Run("--check");
        if (r.ExitCode >= 14)
        {
            throw new InvalidOperationException($"aide --check failed: {r}");
        }
        var result = new HashSet<(string, string)>();
        string? section = null;
        foreach (var line in r.Stdout.Split('\n'))
        {
            if (line.StartsWith("Added entries:", StringComparison.Ordinal)) { section = "added"; continue; }
            if (line.StartsWith("Removed entries:", StringComparison.Ordinal)) { section = "deleted"; continue; }
            if (line.StartsWith("Changed entries:", StringComparison.Ordinal)) { section = "changed"; continue; }
            if (line.StartsWith("Detailed information", StringComparison.Ordinal)) { break; }
            var at = line.IndexOf(": /", StringComparison.Ordinal);
            if (section is not null && at > 0)
            {
                result.Add((line[(at + 2)..], section));
            }
        }
        return result;
    }

    private ProcessResult Run(string mode) => ChildProcess.Run("aide", [mode, "-c", Conf]);
}
