namespace Fim.EndToEnd.Tests;

/// <summary>Where the built programs are: each project's own output folder, in the configuration the tests were built in.</summary>
public static class Programs
{
    private static readonly string RepoRoot = FindRepoRoot();
    private static readonly string Configuration = AppContext.BaseDirectory.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string Agent => Dll("Fim.Agent", "fim-agent.dll");
    public static string Manager => Dll("Fim.Manager", "fim-manager.dll");
    public static string Ctl => Dll("Fim.Ctl", "fimctl.dll");

    private static string Dll(string project, string file)
    {
        var path = Path.Combine(RepoRoot, "src", project, "bin", Configuration, "net10.0", file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{file} is not built at {path}");
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FimOperator.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("FimOperator.sln not found above the test folder");
    }
}
