using Fim.Manager.Options;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Api;

/// <summary>
/// At most one scan request per agent at a time and per scan interval: a request while one is in flight, or within
/// the interval after one started, joins it and gets its answer. A request that failed (no agent listening, no answer)
/// is not kept, so the next one asks again.
/// </summary>
public sealed class ScanCoalescer(IOptions<ApiOptions> options, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (Task<ScanOutcome> Scan, DateTimeOffset Started)> _scans = new(StringComparer.Ordinal);
    private readonly TimeSpan _interval = options.Value.ScanInterval;

    /// <summary>Runs <paramref name="scan"/> for the agent, or joins the one running or recently run (Joined = true).</summary>
    public async Task<(ScanOutcome Outcome, bool Joined)> RunAsync(string agentId, Func<Task<ScanOutcome>> scan, CancellationToken cancellationToken)
    {
        Task<ScanOutcome> task;
        bool joined;
        lock (_gate)
        {
            var now = time.GetUtcNow();
            Prune(now);
            if (_scans.TryGetValue(agentId, out var current) && !(current.Scan.IsCompleted && !current.Scan.IsCompletedSuccessfully))
            {
                (task, joined) = (current.Scan, true);
            }
            else
            {
                task = scan();
                _scans[agentId] = (task, now);
                joined = false;
            }
        }
        return (await task.WaitAsync(cancellationToken), joined);
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (agent, entry) in _scans)
        {
            if (entry.Scan.IsCompleted && (now - entry.Started >= _interval || !entry.Scan.IsCompletedSuccessfully))
            {
                _scans.Remove(agent);
            }
        }
    }
}

/// <summary>What the agent answered to a scan request.</summary>
public sealed record ScanOutcome(bool Ok, string ResponseJson);
