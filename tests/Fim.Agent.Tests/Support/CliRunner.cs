using Fim.Testing;

namespace Fim.Agent.Tests.Support;

/// <summary>
/// Runs the real fim-agent as a child process: the built fim-agent.dll, or the native AOT binary when
/// FIM_AGENT_BINARY names one (<see cref="Programs.AgentBinaryVariable"/>).
/// </summary>
public static class CliRunner
{
    public static string AgentDll => Path.Combine(AppContext.BaseDirectory, "fim-agent.dll");

    public static ProcessResult Run(IEnumerable<string> args, TimeSpan? timeout = null, IDictionary<string, string>? env = null, string? runAsUser = null)
    {
        var (file, argv) = Command(args, runAsUser);
        return ChildProcess.Run(file, argv, Environment(env), timeout: timeout);
    }

    /// <summary>A long-running fim-agent (watch or run).</summary>
    public static ChildProcess Start(IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var (file, argv) = Command(args, runAsUser: null);
        return new ChildProcess(file, argv, Environment(env), name: "fim-agent");
    }

    private static (string File, List<string> Args) Command(IEnumerable<string> args, string? runAsUser)
    {
        var (file, argv) = Programs.AgentCommand(args, AgentDll);
        // setpriv drops to another uid without a shell; the test controls every argument.
        return runAsUser is null ? (file, argv) : ("setpriv", [$"--reuid={runAsUser}", $"--regid={runAsUser}", "--clear-groups", "--", file, .. argv]);
    }

    private static Dictionary<string, string> Environment(IDictionary<string, string>? env) =>
        new(env ?? new Dictionary<string, string>()) { ["NO_COLOR"] = "1" };
}
