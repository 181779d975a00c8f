using System.CommandLine;
using Fim.Agent.Connected;

namespace Fim.Agent.Cli;

/// <summary>`fim-agent nats-authz --agent a --agent b --manager-user manager.fim`: prints the nats-server authorization block.</summary>
public static class NatsAuthzCommand
{
    public static Command Create()
    {
        var agents = new Option<string[]>("--agent") { Description = "Agent id (repeat); its certificate's DNS SAN must be <id>.<san-suffix>.", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };
        var agentNKeys = new Option<string[]>("--agent-nkey") { Description = "<agent id>=<NKey public key, U...> for an agent that logs in with an NKey seed (repeat).", Arity = ArgumentArity.ZeroOrMore };
        var managers = new Option<string[]>("--manager-user") { Description = "Certificate DNS SAN of a manager user (repeat).", Arity = ArgumentArity.ZeroOrMore };
        var admins = new Option<string[]>("--admin-user") { Description = "Certificate DNS SAN of an unrestricted user (operator, tooling; repeat).", Arity = ArgumentArity.ZeroOrMore };
        var suffix = new Option<string>("--san-suffix") { Description = "Domain under which agents' SANs live.", DefaultValueFactory = _ => NatsAuthorization.DefaultSanSuffix };
        var command = new Command("nats-authz", "Print the nats-server authorization block (TLS verify_and_map) giving each agent least privilege.")
        {
            agents,
            agentNKeys,
            managers,
            admins,
            suffix,
        };
        command.SetAction(parse =>
        {
            var authz = new NatsAuthorization { SanSuffix = parse.GetValue(suffix)! };
            authz.Agents.AddRange(parse.GetValue(agents) ?? []);
            authz.Managers.AddRange(parse.GetValue(managers) ?? []);
            authz.Admins.AddRange(parse.GetValue(admins) ?? []);
            try
            {
                foreach (var pair in parse.GetValue(agentNKeys) ?? [])
                {
                    var eq = pair.IndexOf('=');
                    if (eq <= 0)
                    {
                        throw new ArgumentException($"--agent-nkey '{pair}': expected <agent id>=<public key>");
                    }
                    authz.AgentNKeys[pair[..eq]] = pair[(eq + 1)..];
                }
                Console.Out.Write(authz.Render());
            }
            catch (ArgumentException e)
            {
                throw new AgentException(ExitCodes.InvalidArgument, e.Message, e);
            }
            return ExitCodes.NoChanges;
        });
        return command;
    }
}
