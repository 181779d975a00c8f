using Fim.Manager.Store;
using Polly;
using Polly.Retry;

namespace Fim.Manager.Audit;

/// <summary>Appends audit rows to the store and moves the checkpoint after each.</summary>
public sealed class AuditTrail(IAuditStore store, IAuditCheckpoint checkpoint, ILogger<AuditTrail> log)
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
}
