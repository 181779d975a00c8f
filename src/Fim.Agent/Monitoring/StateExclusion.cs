using Fim.Agent.Cli;
using Fim.Core.Baseline;
using Fim.Core.Model;
using Fim.Core.Native;
using Fim.Core.Policy;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Monitoring;

/// <summary>
/// Keeps the agent from monitoring itself: the state directory and the key file are left out of every root that
/// contains them (each baseline write would otherwise be a change, reported and written again, forever), with a log
/// line saying so. A root inside the state directory is refused.
/// </summary>
public static class StateExclusion
{
    /// <param name="hostRoot">Where the host is mounted (connected agent in a container): the state directory is also
    /// excluded under it when it is the same directory seen through the host mount.</param>
    public static CompiledPolicy Apply(CompiledPolicy policy, StateLocation state, ILogger log, string? hostRoot = null)
    {
        var stateDir = PathBytes.FromString(state.StateDir);
        foreach (var rule in policy.Rules)
        {
            if (PathBytes.IsUnder(rule.Root, stateDir))
            {
                throw new AgentException(ExitCodes.InvalidArgument,
                    $"{rule.RootDisplay} is inside the agent's state directory {state.StateDir}; the agent does not monitor its own state (choose another --state)");
            }
        }
        foreach (var (what, path) in Candidates(state, hostRoot))
        {
            policy = policy.Excluding(path, out var roots);
            if (roots.Count > 0)
            {
                log.LogInformation("the {What:l} {Path:l} is inside the monitored {Roots:l}: excluded, so the agent does not report its own writes",
                    what, path, string.Join(", ", roots));
            }
        }
        return policy;
    }

    private static IEnumerable<(string What, string Path)> Candidates(StateLocation state, string? hostRoot)
    {
        yield return ("state directory", state.StateDir);
        yield return ("baseline key file", state.KeyFile);
        // The anchor is rewritten on each baseline save: its own directory by default, else the files it writes.
        if (state.AnchorFile == BaselineAnchor.PathFor(state.KeyFile))
        {
            yield return ("baseline anchor directory", Path.GetDirectoryName(state.AnchorFile)!);
        }
        else
        {
            foreach (var file in BaselineAnchor.WrittenFiles(state.AnchorFile))
            {
                yield return ("baseline anchor", file);
            }
        }
        if (string.IsNullOrEmpty(hostRoot) || hostRoot.TrimEnd('/').Length == 0)
        {
            yield break;
        }
        foreach (var (what, path) in new[] { ("state directory", state.StateDir), ("baseline key file", state.KeyFile) })
        {
            var seen = hostRoot.TrimEnd('/') + path;
            if (SameFile(path, seen))
            {
                yield return (what, seen);
            }
        }
    }

    private static bool SameFile(string a, string b) =>
        Posix.StatPath(PathBytes.FromString(a), true, out var x) == 0
        && Posix.StatPath(PathBytes.FromString(b), true, out var y) == 0
        && x.Inode == y.Inode && x.Device == y.Device;
}
