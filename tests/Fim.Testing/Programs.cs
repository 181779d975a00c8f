namespace Fim.Testing;

/// <summary>The programs that tests run as real processes, from each project's own output folder.</summary>
public static class Programs
{
    public static string Agent => Repository.BuiltDll("Fim.Agent", "fim-agent.dll");
    public static string Manager => Repository.BuiltDll("Fim.Manager", "fim-manager.dll");
    public static string Ctl => Repository.BuiltDll("Fim.Ctl", "fimctl.dll");
}
