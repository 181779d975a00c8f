using Fim.Agent.Monitoring;

namespace Fim.Agent.Connected;

/// <summary>One policy as the heartbeat reports it.</summary>
public sealed record PolicyStatus(string Key, string Name, long Revision, string State, string? Error, ScanReport? LastScan);

/// <summary>
/// What the agent is doing, for heartbeats and commands: the policies (applied, starting, failed, invalid) and the
/// last scan. Every change bumps <see cref="Changed"/>'s signal so the heartbeat goes out early.
/// </summary>
public sealed class AgentStatus
{
    public const string Starting = "starting";
    public const string Running = "running";
    public const string Failed = "error";
    public const string Invalid = "invalid";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, PolicyStatus> _policies = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changed = new(0, 1);

    public ScanReport? LastScan { get; private set; }

    private readonly Dictionary<string, Fim.Contracts.WhoDataStatus> _whoData = new(StringComparer.Ordinal);

    /// <summary>Policy name -> the who-data source it runs on, for the heartbeat.</summary>
    public IReadOnlyDictionary<string, Fim.Contracts.WhoDataStatus> WhoData
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, Fim.Contracts.WhoDataStatus>(_whoData, StringComparer.Ordinal);
            }
        }
    }

    public void SetWhoData(string policyName, Fim.Contracts.WhoDataStatus whoData)
    {
        lock (_gate)
        {
            _whoData[policyName] = whoData;
        }
        Changed();
    }

    public IReadOnlyList<PolicyStatus> Policies
    {
        get
        {
            lock (_gate)
            {
                return [.. _policies.Values.OrderBy(p => p.Key, StringComparer.Ordinal)];
            }
        }
    }

    public void Set(string key, string name, long revision, string state, string? error = null)
    {
        lock (_gate)
        {
            _policies.TryGetValue(key, out var old);
            _policies[key] = new PolicyStatus(key, name, revision, state, error, old?.Revision == revision ? old.LastScan : null);
        }
        Changed();
    }

    /// <summary>Marks an invalid revision; a running older revision keeps running and keeps its entry, with the error added.</summary>
    public void SetInvalid(string key, string name, long revision, string error)
    {
        lock (_gate)
        {
            _policies[key] = _policies.TryGetValue(key, out var old) && old.State == Running
                ? old with { Error = $"revision {revision} is invalid and was not applied: {error}" }
                : new PolicyStatus(key, name, revision, Invalid, error, null);
        }
        Changed();
    }

    public void Remove(string key)
    {
        lock (_gate)
        {
            if (_policies.Remove(key, out var old))
            {
                _whoData.Remove(old.Name);
            }
        }
        Changed();
    }

    public void ScanFinished(string key, ScanReport report)
    {
        lock (_gate)
        {
            if (_policies.TryGetValue(key, out var old))
            {
                _policies[key] = old with { LastScan = report };
            }
            LastScan = report;
        }
        Changed();
    }

    public void Changed()
    {
        try
        {
            _changed.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    /// <summary>Waits for a change or the timeout.</summary>
    public Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken ct) => _changed.WaitAsync(timeout, ct);
}
