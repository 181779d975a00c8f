using System.CommandLine;
using Fim.Agent.Monitoring;
using Fim.Agent.Output;
using Fim.Core.Policy;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Cli;

/// <summary>Options shared by scan and watch, and how they become a policy, a state location and an output.</summary>
public sealed class CommonOptions
{
    public Argument<string[]> Paths { get; } = new("path")
    {
        Description = "Files or directories to monitor (or give --policy).",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public Option<string?> Policy { get; } = new("--policy", "-p") { Description = "Policy file (YAML), the same model as the FimPolicy resource." };

    public Option<string?> State { get; } = new("--state") { Description = "State directory holding the baseline (default /var/lib/fim-agent as root; env FIM_STATE_DIR)." };

    public Option<string?> KeyFile { get; } = new("--key-file") { Description = "HMAC key sealing the baseline, kept outside the state directory (default /etc/fim-agent/baseline.key as root; env FIM_KEY_FILE)." };

    public Option<bool> Json { get; } = new("--json") { Description = "One JSON object per change on stdout (the default when stdout is not a terminal)." };

    public Option<bool> Rebaseline { get; } = new("--rebaseline") { Description = "Discard the existing baseline and record a new one (changes since the old one are not reported)." };

    public Option<bool> VerifyFull { get; } = new("--verify-full") { Description = "Re-read every file's content even when its metadata is unchanged." };

    public CommonOptions()
    {
        // A mistyped option would otherwise be taken for a path to monitor.
        Paths.Validators.Add(result =>
        {
            foreach (var token in result.Tokens.Where(t => t.Value.StartsWith('-')))
            {
                result.AddError($"unknown option '{token.Value}' (a path starting with '-' can be given as ./{token.Value})");
            }
        });
    }

    public void AddTo(Command command)
    {
        command.Add(Paths);
        command.Add(Policy);
        command.Add(State);
        command.Add(KeyFile);
        command.Add(Json);
        command.Add(Rebaseline);
        command.Add(VerifyFull);
    }

    public CompiledPolicy LoadPolicy(ParseResult parse)
    {
        var paths = parse.GetValue(Paths) ?? [];
        var file = parse.GetValue(Policy);
        if (file is not null && paths.Length > 0)
        {
            throw new AgentException(ExitCodes.InvalidArgument, "give either paths or --policy, not both (put the paths in the policy file)");
        }
        if (file is null && paths.Length == 0)
        {
            throw new AgentException(ExitCodes.InvalidArgument, "nothing to monitor: give one or more paths, or --policy FILE");
        }
        try
        {
            return file is not null ? PolicyCompiler.LoadAndCompile(file) : PolicyCompiler.ForPaths(paths);
        }
        catch (PolicyException e)
        {
            throw new AgentException(ExitCodes.InvalidPolicy, e.Message, e);
        }
    }

    /// <summary>The policy to run with this state location: the state directory and key file left out of its roots.</summary>
    public CompiledPolicy LoadPolicy(ParseResult parse, StateLocation state, ILogger log) => StateExclusion.Apply(LoadPolicy(parse), state, log);

    public StateLocation LoadState(ParseResult parse) => StateLocation.Resolve(parse.GetValue(State), parse.GetValue(KeyFile));

    public IAlertOutput CreateOutput(ParseResult parse, ILogger log) =>
        parse.GetValue(Json) || Console.IsOutputRedirected
            ? new JsonLinesOutput(Console.Out, log)
            : new HumanOutput(Console.Out, color: Environment.GetEnvironmentVariable("NO_COLOR") is null);
}
