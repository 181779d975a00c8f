using System.CommandLine;
using Fim.Api.V1;

namespace Fim.Ctl;

/// <summary>fimctl join-token (create, list, revoke) and identity (list, revoke): agent enrollment administration.</summary>
public sealed partial class Cli
{
    private Command JoinTokenCommand()
    {
        var uses = new Option<int>("--uses") { Description = "How many agents may enroll with it (default: the manager's, 1)." };
        var ttl = new Option<string?>("--ttl") { Description = "How long it is valid: 30m, 12h, 7d (default: the manager's, 1d)." };
        var description = new Option<string>("--description") { Description = "What it is for (shown in the list).", DefaultValueFactory = _ => "" };
        var create = new Command("create", "Create a join token; it is printed once, and stored only as a hash.") { uses, ttl, description };
        create.SetAction(async (parse, ct) =>
        {
            long ttlSeconds = 0;
            if (parse.GetValue(ttl) is { } text)
            {
                var now = DateTimeOffset.UtcNow;
                // An age, as --since takes it: "7d" is seven days.
                if (text.Length < 2 || !char.IsAsciiLetter(text[^1]) || !TimeArgument.TryParse(text, now, out var before) || now - before < TimeSpan.FromSeconds(1))
                {
                    throw new UsageException($"--ttl '{text}': expected a duration such as 30m, 12h or 7d");
                }
                ttlSeconds = (long)(now - before).TotalSeconds;
            }
            using var channel = Channel(parse);
            var response = await new FimEnrollment.FimEnrollmentClient(channel).CreateJoinTokenAsync(
                new CreateJoinTokenRequest { Uses = parse.GetValue(uses), TtlSeconds = ttlSeconds, Description = parse.GetValue(description)! }, cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                await stdout.WriteLineAsync(Json.Format(response));
                return Ok;
            }
            await stderr.WriteLineAsync($"join token {response.Info.TokenId}: {response.Info.MaxUses} uses, expires {Time(response.Info.ExpiresAt)}. Keep it secret; it is not shown again.");
            await stdout.WriteLineAsync(response.Token);
            return Ok;
        });
        var list = new Command("list", "List join tokens (never their secrets).");
        list.SetAction(async (parse, ct) =>
        {
            using var channel = Channel(parse);
            var response = await new FimEnrollment.FimEnrollmentClient(channel).ListJoinTokensAsync(new ListJoinTokensRequest(), cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                foreach (var t in response.Tokens)
                {
                    await stdout.WriteLineAsync(Json.Format(t));
                }
                return Ok;
            }
            await stdout.WriteLineAsync($"{"TOKEN",-18} {"USES",-9} {"EXPIRES",-20} {"REVOKED",-20} DESCRIPTION");
            foreach (var t in response.Tokens)
            {
                await stdout.WriteLineAsync($"{t.TokenId,-18} {$"{t.Uses}/{t.MaxUses}",-9} {Time(t.ExpiresAt),-20} {(t.RevokedAt is null ? "-" : Time(t.RevokedAt)),-20} {t.Description}");
            }
            return Ok;
        });
        var id = new Argument<string>("token-id") { Description = "Token id (from the list)." };
        var revoke = new Command("revoke", "Revoke a join token: no more enrollments with it.") { id };
        revoke.SetAction(async (parse, ct) =>
        {
            using var channel = Channel(parse);
            var t = await new FimEnrollment.FimEnrollmentClient(channel).RevokeJoinTokenAsync(new RevokeJoinTokenRequest { TokenId = parse.GetValue(id)! }, cancellationToken: ct);
            await stdout.WriteLineAsync(parse.GetValue(_json) ? Json.Format(t) : $"join token {t.TokenId} revoked");
            return Ok;
        });
        return new Command("join-token", "Join tokens for `fim-agent enroll`.") { create, list, revoke };
    }

    private Command IdentityCommand()
    {
        var list = new Command("list", "List enrolled agents and their public keys.");
        list.SetAction(async (parse, ct) =>
        {
            using var channel = Channel(parse);
            var response = await new FimEnrollment.FimEnrollmentClient(channel).ListIdentitiesAsync(new ListIdentitiesRequest(), cancellationToken: ct);
            if (parse.GetValue(_json))
            {
                foreach (var i in response.Identities)
                {
                    await stdout.WriteLineAsync(Json.Format(i));
                }
                return Ok;
            }
            await stdout.WriteLineAsync($"{"AGENT",-28} {"PUBLIC KEY",-57} {"ENROLLED",-20} REVOKED");
            foreach (var i in response.Identities)
            {
                await stdout.WriteLineAsync($"{i.AgentId,-28} {i.PublicKey,-57} {Time(i.EnrolledAt),-20} {(i.RevokedAt is null ? "-" : Time(i.RevokedAt))}");
            }
            return Ok;
        });
        var agent = new Argument<string>("agent") { Description = "Agent id." };
        var revoke = new Command("revoke", "Revoke an agent's NATS identity: the server refuses its key within seconds, without a restart.") { agent };
        revoke.SetAction(async (parse, ct) =>
        {
            using var channel = Channel(parse);
            var i = await new FimEnrollment.FimEnrollmentClient(channel).RevokeIdentityAsync(new RevokeIdentityRequest { AgentId = parse.GetValue(agent)! }, cancellationToken: ct);
            await stdout.WriteLineAsync(parse.GetValue(_json) ? Json.Format(i) : $"agent {i.AgentId} (key {i.PublicKey}) revoked");
            return Ok;
        });
        return new Command("identity", "Enrolled agents' NATS identities.") { list, revoke };
    }
}
