namespace Fim.Testing;

/// <summary>The repository the tests run from, and the programs built in it (run as real processes).</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration the running tests were built in; the programs they start are built alike.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string File(string relativePath) => Path.Combine(Root, relativePath);

    /// <summary>A program from its own project's output folder, e.g. BuiltDll("Fim.Agent", "fim-agent.dll").</summary>
    public static string BuiltDll(string project, string file)
    {
        var path = Path.Combine(Root, "src", project, "bin", Configuration, "net10.0", file);
        return System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"{file} is not built at {path}");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "FimOperator.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("FimOperator.sln not found above " + AppContext.BaseDirectory);
    }
}
