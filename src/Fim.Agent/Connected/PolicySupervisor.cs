using Fim.Core.Content;
using Fim.Agent.Telemetry;
using Fim.Contracts;
using Fim.Core.Model;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Connected;

/// <summary>
/// Keeps one <see cref="PolicyRunner"/> per selected policy: starts new ones, restarts a policy whose revision
/// changed, stops removed or deselected ones (their stores stay open until their outbox is delivered).
/// Calls are serialised; the KV watcher and the local policy both come through here.
/// </summary>
public sealed class PolicySupervisor(
    StateStores stores,
    Outbox outbox,
    EventIdSource ids,
    AgentIdentity identity,
    AgentStatus status,
    AgentRetries retries,
    ILoggerFactory loggers,
    Packages.PackageAwareness? packages = null,
    Kubernetes.KubernetesAttribution? kubernetes = null,
    DriftCounters? drift = null) : IAgentControl, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, IPolicyRunner> _running = new(StringComparer.Ordinal);
    // Each running policy's tailer of its JSON-lines sources, if it has sources.
    private readonly Dictionary<string, Sources.SourceTailer> _tailers = new(StringComparer.Ordinal);
    // Each running node policy's roots in the package indexes' scope, released when it stops.
    private readonly Dictionary<string, IDisposable> _packageScopes = new(StringComparer.Ordinal);
    private readonly ILogger _logger = loggers.CreateLogger<PolicySupervisor>();
    private readonly ScanRecords _scans = new(outbox, identity, loggers.CreateLogger<ScanRecords>());

    /// <summary>Runs <paramref name="policy"/>; a running policy is restarted only when the revision differs.</summary>
    public async Task ApplyAsync(AssignedPolicy policy)
    {
        await _gate.WaitAsync();
        try
        {
            if (_running.TryGetValue(policy.Key, out var current))
            {
                if (current.Policy.Revision == policy.Revision)
                {
                    return;
                }
                _logger.LogInformation("policy {Policy}: revision {Old} -> {New}, restarting its monitoring", policy.Name, current.Policy.Revision, policy.Revision);
                await StopAsync(policy.Key, current);
            }
            IPolicyRunner runner;
            try
            {
                if (policy.Policy.Pods is not null)
                {
                    runner = ContainerRunner(policy);
                    lock (_running)
                    {
                        _running[policy.Key] = runner;
                    }
                    AgentMetrics.PolicyRevision.WithLabels(policy.Name).Set(policy.Revision);
                    runner.Start();
                    return;
                }
                var compiled = Monitoring.StateExclusion.Apply(policy.Policy.UnderRoot(identity.HostRoot), stores.Location, _logger, identity.HostRoot);
                var store = stores.Acquire(policy.Key);
                var sink = new OutboxSink(outbox, ids, identity.Origin, loggers.CreateLogger<OutboxSink>(), packages, kubernetes is null ? null : kubernetes.Resolver.Attribute, drift);
                drift?.Open(policy.Name, stores.DirectoryOf(policy.Key), stores.SealingKey);
                runner = new PolicyRunner(policy with { Policy = compiled }, store, sink, status, retries, loggers) { Scans = _scans, Drift = drift };
                // Before it starts: its first event must find its files in the package indexes (roots as the host names them).
                if (packages?.Cover(Packages.PackageScope.Of(policy.Policy).Roots) is { } covered)
                {
                    _packageScopes[policy.Key] = covered;
                }
            }
            catch (Exception e) when (e is Fim.Core.Baseline.BaselineIntegrityException or Fim.Core.Baseline.BaselineKeyException or Fim.Core.Baseline.BaselineLockedException or IOException or UnauthorizedAccessException or Cli.AgentException)
            {
                _logger.LogError("policy {Policy}: cannot open its baseline store: {Error}", policy.Name, e.Message);
                status.Set(policy.Key, policy.Name, policy.Revision, AgentStatus.Failed, e.Message);
                AgentMetrics.PolicyErrors.WithLabels(policy.Name).Inc();
                return;
            }
            lock (_running)
            {
                _running[policy.Key] = runner;
            }
            AgentMetrics.PolicyRevision.WithLabels(policy.Name).Set(policy.Revision);
            runner.Start();
            StartSources(policy);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops monitoring <paramref name="key"/> (deleted, or no longer selecting this agent).</summary>
    public async Task RemoveAsync(string key, string why)
    {
        await _gate.WaitAsync();
        try
        {
            if (_running.TryGetValue(key, out var runner))
            {
                _logger.LogInformation("policy {Policy}: {Why}, monitoring stopped", runner.Policy.Name, why);
                AgentMetrics.PolicyRevision.RemoveLabelled(runner.Policy.Name);
                drift?.Close(runner.Policy.Name);
                await StopAsync(key, runner);
                // The policy is gone: so are the copies of its files' content and its checkpoints.
                ContentTracker.RemoveStored(stores.DirectoryOf(key));
            }
            status.Remove(key);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A revision that cannot be applied: reported; a running older revision keeps running.</summary>
    public void ReportInvalid(string key, string? name, long revision, string error)
    {
        _logger.LogError("policy {Key} revision {Revision} is invalid and was not applied: {Error}", key, revision, error);
        AgentMetrics.PolicyErrors.WithLabels(name ?? key).Inc();
        status.SetInvalid(key, name ?? key, revision, error);
    }

    /// <summary>Asks every running policy for a full rescan; returns the names of those that took it.</summary>
    public IReadOnlyList<string> RequestScan(string reason)
    {
        lock (_running)
        {
            return [.. _running.Values.Where(r => r.RequestScan(reason)).Select(r => r.Policy.Name)];
        }
    }

    /// <summary>The baseline record of a path and the policy that holds it.</summary>
    public (string Policy, FileRecord Record)? Find(string path)
    {
        var bytes = PathBytes.FromString(identity.HostRoot + path);
        lock (_running)
        {
            foreach (var runner in _running.Values)
            {
                if (runner.Find(bytes) is { } record)
                {
                    return (runner.Policy.Name, record);
                }
            }
        }
        return null;
    }

    /// <summary>The path now, under the first running node policy whose scope covers it (pods' files are not answered for).</summary>
    public (string Policy, Fim.Core.Scanning.Inspection Result)? Inspect(string path)
    {
        var bytes = PathBytes.FromString(identity.HostRoot + path);
        List<AssignedPolicy> candidates;
        lock (_running)
        {
            candidates = [.. _running.Values.OfType<PolicyRunner>().Select(r => r.Policy).Where(p => p.Policy.RuleFor(bytes) is not null)
                .OrderBy(p => p.Key, StringComparer.Ordinal)];
        }
        // Outside the lock: hashing a file may take a while, and policies must still start and stop meanwhile.
        foreach (var policy in candidates)
        {
            var result = new Fim.Core.Scanning.PathInspector(policy.Policy).Inspect(bytes);
            if (result.Outcome != Fim.Core.Scanning.InspectionOutcome.OutOfScope)
            {
                return (policy.Name, result);
            }
        }
        return null;
    }

    /// <summary>Hex SHA-256 over the running policies' baseline digests (key order), and each digest.</summary>
    public (string Combined, Dictionary<string, string> PerPolicy) Digests()
    {
        var per = new Dictionary<string, string>(StringComparer.Ordinal);
        lock (_running)
        {
            foreach (var r in _running.Values.OrderBy(r => r.Policy.Key, StringComparer.Ordinal))
            {
                per[r.Policy.Name] = r.BaselineDigest;
            }
        }
        var combined = per.Count == 0 ? "" : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(string.Join('\n', per.Select(p => $"{p.Key}={p.Value}")))));
        return (combined, per);
    }

    public async Task StopAllAsync()
    {
        await _gate.WaitAsync();
        try
        {
            foreach (var (key, runner) in _running.ToList())
            {
                await StopAsync(key, runner);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private void StartSources(AssignedPolicy policy)
    {
        if (policy.Policy.Sources.Count == 0)
        {
            return;
        }
        try
        {
            var store = stores.Acquire(Sources.SourceTailer.StoreKey(policy.Key));
            var tailer = new Sources.SourceTailer(policy, store, outbox, ids, identity, loggers.CreateLogger<Sources.SourceTailer>());
            _tailers[policy.Key] = tailer;
            tailer.Start();
        }
        catch (Exception e) when (e is Fim.Core.Baseline.BaselineIntegrityException or Fim.Core.Baseline.BaselineKeyException or Fim.Core.Baseline.BaselineLockedException or IOException or UnauthorizedAccessException or Cli.AgentException)
        {
            _logger.LogError("policy {Policy}: cannot open the store of its sources' read positions: {Error}", policy.Name, e.Message);
            status.Set(policy.Key, policy.Name, policy.Revision, AgentStatus.Failed, e.Message);
            AgentMetrics.PolicyErrors.WithLabels(policy.Name).Inc();
        }
    }

    private async Task StopAsync(string key, IPolicyRunner runner)
    {
        lock (_running)
        {
            _running.Remove(key);
        }
        if (_tailers.Remove(key, out var tailer))
        {
            await tailer.DisposeAsync();
            stores.Release(Sources.SourceTailer.StoreKey(key));
        }
        await runner.DisposeAsync();
        if (_packageScopes.Remove(key, out var covered))
        {
            covered.Dispose();
        }
        if (runner is PolicyRunner)
        {
            stores.Release(key);
        }
    }

    /// <summary>A policy over files inside the selected pods' containers: one baseline per container, under this policy's key.</summary>
    private Kubernetes.ContainerPolicyRunner ContainerRunner(AssignedPolicy policy)
    {
        var k = kubernetes ?? throw new Cli.AgentException(Cli.ExitCodes.InvalidArgument, "this agent has no Kubernetes access, so it cannot monitor files inside pods");
        if (k.Endpoint is null)
        {
            _logger.LogWarning("policy {Policy} selects pods, but no Kubernetes API is configured: no container matches until one is", policy.Name);
        }
        return new Kubernetes.ContainerPolicyRunner(policy, new Kubernetes.ContainerMonitoring(stores, outbox, ids, identity, status, k.Pods, k.Processes, k.Resolver, loggers) { LinkDirectory = k.LinkDirectory });
    }

    public async ValueTask DisposeAsync() => await StopAllAsync();
}
