namespace Fim.Agent.Cli;

/// <summary>An error the user can act on: printed as is (no stack trace) and mapped to an exit code.</summary>
public sealed class AgentException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
