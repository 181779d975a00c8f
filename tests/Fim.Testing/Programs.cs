namespace Fim.Testing;

/// <summary>The programs that tests run as real processes, from each project's own output folder.</summary>
public static class Programs
{
    /// <summary>
    /// Set to the native AOT fim-agent (`scripts/build-agent.sh --aot` prints its path) to run the tests that start the
    /// agent against that binary instead of the JIT build's fim-agent.dll.
    /// </summary>
    public const string AgentBinaryVariable = "FIM_AGENT_BINARY";

    public static string Agent => Repository.BuiltDll("Fim.Agent", "fim-agent.dll");
    public static string Manager => Repository.BuiltDll("Fim.Manager", "fim-manager.dll");
    public static string Ctl => Repository.BuiltDll("Fim.Ctl", "fimctl.dll");

    /// <summary>Set to the native AOT fimctl (`scripts/build-fimctl.sh` prints its path) to run fimctl as that binary.</summary>
    public const string CtlBinaryVariable = "FIM_CTL_BINARY";

    /// <summary>The native agent named by <see cref="AgentBinaryVariable"/>, or null for the JIT build.</summary>
    public static string? NativeAgent { get; } = NativeBinary(AgentBinaryVariable, "scripts/build-agent.sh --aot");

    /// <summary>The native fimctl named by <see cref="CtlBinaryVariable"/>, or null for the JIT build.</summary>
    public static string? NativeCtl { get; } = NativeBinary(CtlBinaryVariable, "scripts/build-fimctl.sh");

    /// <summary>
    /// How to start fim-agent: the native binary when <see cref="AgentBinaryVariable"/> names one, else
    /// `dotnet &lt;jitDll&gt;` (default: the agent project's own build).
    /// </summary>
    public static (string File, List<string> Args) AgentCommand(IEnumerable<string> args, string? jitDll = null) =>
        NativeAgent is { } native ? (native, [.. args]) : (ChildProcess.DotnetHost, [jitDll ?? Agent, .. args]);

    /// <summary>How to start fimctl: the native binary when <see cref="CtlBinaryVariable"/> names one, else `dotnet fimctl.dll`.</summary>
    public static (string File, List<string> Args) CtlCommand(IEnumerable<string> args) =>
        NativeCtl is { } native ? (native, [.. args]) : (ChildProcess.DotnetHost, [Ctl, .. args]);

    private static string? NativeBinary(string variable, string publishWith) => Environment.GetEnvironmentVariable(variable) switch
    {
        null or "" => null,
        var p when File.Exists(p) => Path.GetFullPath(p),
        var p => throw new FileNotFoundException($"{variable}={p}: no such file (publish it with {publishWith})"),
    };
}
