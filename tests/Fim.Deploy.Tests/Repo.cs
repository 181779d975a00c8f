namespace Fim.Deploy.Tests;

/// <summary>Paths in the repository the deploy tests read.</summary>
public static class Repo
{
    public static string Root { get; } = Fim.Testing.Repository.Root;

    public static string Chart => Path.Combine(Root, "charts", "fim");

    public static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, tool)));
}
