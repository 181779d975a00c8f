using System.Text.Json;
using Fim.Manager.Store;
using Google.Protobuf;
using Grpc.Core;
using Polly;
using Polly.Retry;

namespace Fim.Manager.Audit;

/// <summary>Appends audit rows to the store and moves the checkpoint after each.</summary>
public sealed class AuditTrail(IAuditStore store, IAuditCheckpoint checkpoint, TimeProvider time, ILogger<AuditTrail> log)
{
    /// <summary>An outcome row is worth a few quick attempts: the call already ran.</summary>
    private static readonly ResiliencePipeline OutcomeRetry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
    {
        ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
        MaxRetryAttempts = 4,
        BackoffType = DelayBackoffType.Exponential,
        Delay = TimeSpan.FromMilliseconds(200),
    }).AddTimeout(TimeSpan.FromSeconds(30)).Build();

    public async Task<AuditRecord> AppendAsync(AuditDraft draft, CancellationToken cancellationToken)
    {
        var record = await store.AppendAuditAsync(draft, cancellationToken);
        try
        {
            await checkpoint.AdvanceAsync(new AuditCheckpoint(record.Sequence, record.Hash), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The row is stored; a checkpoint left behind only narrows what verify can tell about the newest rows.
            log.LogWarning("Audit checkpoint not moved to sequence {Sequence}: {Error}", record.Sequence, e.Message);
        }
        return record;
    }

    /// <summary>Appends with retries and never throws: the row after a call that has already run.</summary>
    public async Task AppendOutcomeAsync(AuditDraft draft)
    {
        try
        {
            await OutcomeRetry.ExecuteAsync(async ct => await AppendAsync(draft, ct), CancellationToken.None);
        }
        catch (Exception e)
        {
            log.LogError("Audit outcome row not written ({Action} by {Actor}: {Outcome}); its started row stands: {Error}",
                draft.Action, draft.Actor, draft.Outcome, e.Message);
        }
    }

    /// <summary>
    /// Runs one mutating call between its two audit rows: <paramref name="started"/> before it (if that row cannot be
    /// written the call is refused with UNAVAILABLE and not run) and its outcome after: ok, or the gRPC status it failed with.
    /// </summary>
    public async Task<T> RunAsync<T>(AuditDraft started, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        AuditRecord row;
        try
        {
            row = await AppendAsync(started, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError("Refused {Action} by {Actor}: its audit row could not be written: {Error}", started.Action, started.Actor, e.Message);
            throw new RpcException(new Status(StatusCode.Unavailable, "audit log: the call was not run because its audit row could not be written; try again"));
        }
        var outcome = "Internal";
        var detail = new Dictionary<string, string?> { ["started"] = row.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        try
        {
            var response = await call();
            outcome = "ok";
            detail["response"] = response is IMessage m ? AuditDetail.Of(m) : null;
            return response;
        }
        catch (RpcException e)
        {
            outcome = e.StatusCode.ToString();
            detail["status"] = e.Status.Detail;
            throw;
        }
        catch (OperationCanceledException)
        {
            outcome = nameof(StatusCode.Cancelled);
            throw;
        }
        finally
        {
            await AppendOutcomeAsync(started with
            {
                AtMicros = Micros.From(time.GetUtcNow()),
                Outcome = outcome,
                Detail = JsonSerializer.Serialize(detail, AuditOutcomeJson.Default.DictionaryStringString),
            });
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string?>))]
internal sealed partial class AuditOutcomeJson : System.Text.Json.Serialization.JsonSerializerContext;
