using Fim.Api.V1;
using Fim.Manager.Audit;
using Fim.Manager.Store;

namespace Fim.Manager.Tests;

public sealed class AuditUnitTests
{
    /// <summary>Every method of every API service is audited or not by one rule; a new method shows up here.</summary>
    [Fact]
    public void The_mutating_methods_of_every_service_are_the_ones_audited()
    {
        var methods = new AuditedMethods();
        var audited = methods.All.Where(AuditedMethods.IsMutating).Select(m => m.Name).Order().ToList();
        Assert.Equal(
            ["CreateApiToken", "CreateJoinToken", "CreateMaintenanceWindow", "EndMaintenanceWindow", "PruneAgents", "ReviewAlerts",
             "RevokeApiToken", "RevokeIdentity", "RevokeJoinToken", "TriggerScan"],
            audited);
        Assert.NotNull(methods.Mutating("/fim.v1.FimManager/ReviewAlerts"));
        Assert.Null(methods.Mutating("/fim.v1.FimManager/ListAlerts"));
        Assert.Null(methods.Mutating("/fim.v1.FimManager/VerifyAuditLog"));
        Assert.Null(methods.Mutating("/fim.v1.NoSuch/Thing"));
        Assert.Equal(["fim.v1.FimManager/ReviewAlerts"], methods.Actions("ReviewAlerts"));
        Assert.Empty(methods.Actions("NoSuchMethod"));
    }

    [Fact]
    public void Details_keep_what_was_asked_and_drop_every_secret()
    {
        var secret = "fimt_0123456789abcdef_" + new string('A', 43);
        var detail = AuditDetail.Of(new CreateApiTokenResponse
        {
            Token = new ApiToken { TokenId = "0123456789abcdef", Name = "ci", Role = "viewer" },
            Secret = secret,
        });
        Assert.Contains("0123456789abcdef", detail);
        Assert.DoesNotContain(secret, detail);
        Assert.DoesNotContain("AAAA", detail);
        Assert.Contains("\"secret\":\"[redacted]\"", detail);

        var join = AuditDetail.Of(new CreateJoinTokenResponse { Token = "fimj.some-join-token-text", Info = new JoinTokenInfo { TokenId = "j1" } });
        Assert.DoesNotContain("some-join-token-text", join);
        Assert.Contains("j1", join);

        // A token pasted where no secret belongs is still removed.
        var review = AuditDetail.Of(new ReviewAlertsRequest { State = "expected", Comment = "oops " + secret, AlertIds = { "a/1" } });
        Assert.DoesNotContain(secret, review);
        Assert.Contains("a/1", review);
        Assert.Equal("a/1", AuditedMethods.Target(new ReviewAlertsRequest { AlertIds = { "a/1" } }));
        Assert.Equal("agent-1", AuditedMethods.Target(new TriggerScanRequest { AgentId = "agent-1" }));

        var huge = AuditDetail.Of(new ReviewAlertsRequest { State = "expected", Comment = new string('x', 20_000) });
        Assert.True(huge.Length < AuditDetail.MaxLength + 200);
    }

    [Fact]
    public void Verification_of_an_empty_log_and_of_a_checkpoint_ahead_of_an_empty_table()
    {
        Assert.True(AuditChain.Verify([], null).Ok);
        var v = AuditChain.Verify([], new AuditCheckpoint(4, AuditChain.Genesis));
        Assert.Equal((false, 1L, "truncated"), (v.Ok, v.FirstBadSequence, v.Problem));
    }
}

/// <summary>The audit checkpoint in a real KV bucket, written by two managers at once.</summary>
public sealed class AuditCheckpointTests(NatsFixture f) : IClassFixture<NatsFixture>
{
    private NatsAuditCheckpoint NewCheckpoint(List<Nats.NatsConnector> connectors)
    {
        var connector = new Nats.NatsConnector(Microsoft.Extensions.Options.Options.Create(new Options.NatsOptions { Url = f.Server.Url }),
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        connectors.Add(connector);
        return new NatsAuditCheckpoint(connector, Microsoft.Extensions.Options.Options.Create(new Options.PipelineOptions()));
    }

    [Fact]
    public async Task The_checkpoint_only_moves_forward_when_two_managers_advance_it_at_once()
    {
        var connectors = new List<Nats.NatsConnector>();
        try
        {
            var a = NewCheckpoint(connectors);
            var b = NewCheckpoint(connectors);
            Assert.Null(await a.ReadAsync(CancellationToken.None));
            static string Hash(long i) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)));
            // Each writer advances in its own order, so late, lower checkpoints arrive after higher ones.
            await Task.WhenAll(
                Task.Run(async () => { for (var i = 1; i <= 40; i += 2) { await a.AdvanceAsync(new AuditCheckpoint(i, Hash(i)), CancellationToken.None); } }),
                Task.Run(async () => { for (var i = 40; i >= 2; i -= 2) { await b.AdvanceAsync(new AuditCheckpoint(i, Hash(i)), CancellationToken.None); } }));
            Assert.Equal(new AuditCheckpoint(40, Hash(40)), await b.ReadAsync(CancellationToken.None));
            await a.AdvanceAsync(new AuditCheckpoint(7, Hash(7)), CancellationToken.None);
            Assert.Equal(40, (await a.ReadAsync(CancellationToken.None))!.Sequence);
        }
        finally
        {
            foreach (var c in connectors)
            {
                await c.DisposeAsync();
            }
        }
    }
}
