using Fim.Agent.Monitoring;
using Fim.Agent.WhoData;
using Fim.Core.Baseline;
using Fim.Core.Model;
using Fim.Nats;
using Microsoft.Extensions.Logging;
using Polly;

namespace Fim.Agent.Connected;

/// <summary>
/// Monitors one policy revision: a watch loop over the policy's store, on its own task, restarted with backoff when
/// it fails (a root that does not exist yet, an unreadable path), until stopped.
/// </summary>
public sealed class PolicyRunner : IPolicyRunner
{
    private readonly BaselineStore _store;
    private readonly IChangeSink _sink;
    private readonly AgentStatus _status;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _restart;
    private readonly CancellationTokenSource _stop = new();
    private volatile WatchLoop? _loop;
    private volatile MonitorSession? _session;
    private Task? _task;

    private readonly WhoDataLimit _whoDataLimit;

    public PolicyRunner(AssignedPolicy policy, BaselineStore store, IChangeSink sink, AgentStatus status, AgentRetries retries, ILoggerFactory loggers,
        WhoDataLimit whoDataLimit = WhoDataLimit.Best)
    {
        _whoDataLimit = whoDataLimit;
        _restart = retries.RunPolicy(policy.Name, policy.Revision);
        Policy = policy;
        _store = store;
        _sink = sink;
        _status = status;
        _loggers = loggers;
        _logger = loggers.CreateLogger<PolicyRunner>();
    }

    public AssignedPolicy Policy { get; }

    /// <summary>Where completed scans are recorded for the managers; null: not recorded.</summary>
    public ScanRecords? Scans { get; init; }

    /// <summary>Where the drift since the accepted baseline is counted (the last scan's errors too); null: not counted.</summary>
    public DriftCounters? Drift { get; init; }

    public void Start() => _task = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>True when the loop took the request (it is running).</summary>
    public bool RequestScan(string reason)
    {
        if (_loop is not { } loop)
        {
            return false;
        }
        loop.RequestScan(reason);
        return true;
    }

    /// <summary>The baseline record of <paramref name="path"/> if this policy monitors it.</summary>
    public FileRecord? Find(byte[] path) =>
        Policy.Policy.RuleFor(path) is not null && _session is { } s && s.TryGetRecord(path, out var r) ? r : null;

    public string BaselineDigest => _store.Digest;

    /// <summary>Until stopped: a failure marks the policy Failed and the pipeline restarts it after its backoff.</summary>
    private Task RunAsync(CancellationToken ct) => _restart.UntilDoneAsync(async token =>
    {
        _status.Set(Policy.Key, Policy.Name, Policy.Revision, AgentStatus.Starting);
        try
        {
            if (Policy.Policy.Rules.Count == 0)
            {
                // Sources only (their tailer runs beside this runner): no files to watch.
                _status.Set(Policy.Key, Policy.Name, Policy.Revision, AgentStatus.Running);
                _logger.LogInformation("policy {Policy} revision {Revision} applied (sources only)", Policy.Name, Policy.Revision);
                await Task.Delay(Timeout.Infinite, token);
                return;
            }
            var session = MonitorSession.Attach(Policy.Policy, _store);
            var choice = WhoDataSelector.Create(Policy.Policy, _loggers, _logger, _whoDataLimit);
            _status.SetWhoData(Policy.Name, choice.Status);
            await using var watcher = choice.Watcher;
            var loop = new WatchLoop(session, _sink, watcher, _logger, TimeProvider.System) { AlignBaselineWithPolicy = true };
            loop.Ready += () =>
            {
                _session = session;
                _loop = loop;
                _status.Set(Policy.Key, Policy.Name, Policy.Revision, AgentStatus.Running);
                _logger.LogInformation("policy {Policy} revision {Revision} applied", Policy.Name, Policy.Revision);
            };
            loop.ScanFinished += report => _status.ScanFinished(Policy.Key, report);
            if (Drift is { } drift)
            {
                loop.ScanCompleted += outcome => drift.ScanCompleted(Policy.Name, outcome.Errors);
            }
            if (Scans is { } scans)
            {
                loop.ScanCompleted += outcome => scans.Record(session, Policy, outcome);
            }
            await loop.RunAsync(token);
        }
        catch (Exception e) when (!token.IsCancellationRequested)
        {
            _loop = null;
            _logger.LogError("policy {Policy} revision {Revision} failed: {Error}", Policy.Name, Policy.Revision, e.Message);
            _status.Set(Policy.Key, Policy.Name, Policy.Revision, AgentStatus.Failed, e.Message);
            Telemetry.AgentMetrics.PolicyErrors.WithLabels(Policy.Name).Inc();
            throw;
        }
    }, ct);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_task is not null)
        {
            await _task;
        }
        _loop = null;
        _session = null;
        _stop.Dispose();
    }
}
