using System.Security.Cryptography;
using System.Text;
using Fim.Agent.Connected;
using Fim.Agent.Monitoring;
using Fim.Agent.Realtime;
using Fim.Contracts;
using Fim.Core.Events;
using Fim.Core.Model;
using Fim.Core.Policy;
using Microsoft.Extensions.Logging;

namespace Fim.Agent.Kubernetes;

/// <summary>What a container policy needs from the connected agent.</summary>
public sealed record ContainerMonitoring(
    StateStores Stores,
    Outbox Outbox,
    EventIdSource Ids,
    AgentIdentity Identity,
    AgentStatus Status,
    PodDirectory Pods,
    ContainerProcesses Processes,
    WorkloadResolver Resolver,
    ILoggerFactory Loggers)
{
    /// <summary>
    /// Where the links to containers' roots live. Never inside the state directory: whatever walks that directory
    /// would walk every container's file system through them.
    /// </summary>
    public string LinkDirectory { get; init; } = KubernetesOptions.DefaultContainerLinkDir;

    /// <summary>How often running containers are checked without a pod change (a process that appeared or died).</summary>
    public TimeSpan RecheckInterval { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// A policy with <c>pods</c>: monitors its paths inside every selected container of this node's pods. Each container
/// is reached through a process in it: a symbolic link in the state directory points at /proc/&lt;pid&gt;/root, the
/// policy's roots are moved below the link, and events take the link off again, so they carry container paths and
/// the container's identity. The link, not the pid, is in every baseline path: a restarted container (new id, new
/// pid, same pod, name and image) re-points the link and is compared with the baseline it had, so only real
/// differences are reported. A container that is gone is dropped with its baseline once its events are delivered.
/// </summary>
public sealed class ContainerPolicyRunner : IPolicyRunner
{
    private readonly ContainerMonitoring _m;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly Dictionary<string, ContainerMonitor> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Fim.Core.Baseline.BaselineStore> _dropping = new(StringComparer.Ordinal);
    private readonly string _linkDir;
    private Task? _task;

    public ContainerPolicyRunner(AssignedPolicy policy, ContainerMonitoring monitoring)
    {
        if (policy.Policy.Pods is null)
        {
            throw new ArgumentException($"policy {policy.Name} selects no pods", nameof(policy));
        }
        Policy = policy;
        _m = monitoring;
        _logger = monitoring.Loggers.CreateLogger<ContainerPolicyRunner>();
        _linkDir = monitoring.LinkDirectory;
    }

    public AssignedPolicy Policy { get; }

    private PodSelection Selection => Policy.Policy.Pods!;

    /// <summary>The containers monitored now, by baseline key (for tests and status).</summary>
    public IReadOnlyList<(string Key, Workload Workload, int Pid)> Containers
    {
        get
        {
            lock (_running)
            {
                return [.. _running.Select(r => (r.Key, r.Value.Workload, r.Value.Pid))];
            }
        }
    }

    public void Start()
    {
        Directory.CreateDirectory(_linkDir);
        _m.Pods.Changed += Wake;
        _task = Task.Run(() => RunAsync(_stop.Token));
    }

    private void Wake() => _wake.Release();

    public bool RequestScan(string reason)
    {
        lock (_running)
        {
            foreach (var c in _running.Values)
            {
                c.Loop?.RequestScan(reason);
            }
            return _running.Count > 0;
        }
    }

    /// <summary>Container files are not looked up by node path.</summary>
    public FileRecord? Find(byte[] path) => null;

    public string BaselineDigest
    {
        get
        {
            lock (_running)
            {
                var digests = string.Join('\n', _running.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}={r.Value.Store.Digest}"));
                return digests.Length == 0 ? "" : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(digests)));
            }
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        _m.Status.Set(Policy.Key, Policy.Name, Policy.Revision, AgentStatus.Running);
        _logger.LogInformation("policy {Policy} revision {Revision} applied to the containers of selected pods", Policy.Name, Policy.Revision);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await ReconcileAsync();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Cli.AgentException
                or Fim.Core.Baseline.BaselineIntegrityException or Fim.Core.Baseline.BaselineKeyException or Fim.Core.Baseline.BaselineLockedException)
            {
                _logger.LogError("policy {Policy}: containers could not be reconciled: {Error}", Policy.Name, e.Message);
            }
            await ((Task)_wake.WaitAsync(_m.RecheckInterval, ct)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Starts monitoring selected containers, re-points restarted ones, drops the ones that are gone.</summary>
    private async Task ReconcileAsync()
    {
        var desired = new Dictionary<string, (PodInfo Pod, PodContainer Container)>(StringComparer.Ordinal);
        foreach (var pod in _m.Pods.All().Where(p => Selection.SelectsPod(p.Namespace, p.Labels)))
        {
            foreach (var c in pod.Containers.Where(c => c.ContainerId is not null && Selection.SelectsContainer(c.Name)))
            {
                desired[BaselineKey(pod, c)] = (pod, c);
            }
        }
        List<(string Key, ContainerMonitor Monitor)> current;
        lock (_running)
        {
            current = [.. _running.Select(r => (r.Key, r.Value))];
        }
        foreach (var (key, monitor) in current)
        {
            if (!desired.TryGetValue(key, out var want) || want.Container.ContainerId != monitor.Workload.ContainerId || !_m.Processes.Reaches(monitor.Pid, monitor.Workload.ContainerId!))
            {
                await StopAsync(key, monitor, drop: !desired.ContainsKey(key));
            }
        }
        foreach (var (key, (pod, container)) in desired)
        {
            lock (_running)
            {
                if (_running.ContainsKey(key))
                {
                    continue;
                }
            }
            if (_m.Processes.Find(container.ContainerId!) is not { } pid)
            {
                continue;
            }
            StartContainer(key, pod.Describe(container.ContainerId, container.Runtime), pid);
        }
        foreach (var (key, store) in _dropping.ToList())
        {
            if (store.PendingEventCount == 0)
            {
                _dropping.Remove(key);
                _m.Stores.Release(key);
                _m.Stores.Delete(key);
                _logger.LogInformation("policy {Policy}: baseline {Key} of a removed container deleted", Policy.Name, key);
            }
        }
    }

    /// <summary>Pod uid, container name and image: stable across container restarts, new for a new pod or image.</summary>
    private string BaselineKey(PodInfo pod, PodContainer c)
    {
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{pod.Uid}\n{c.Name}\n{c.Image}")))[..20];
        return $"{Policy.Key}.c-{id}";
    }

    private void StartContainer(string key, Workload workload, int pid)
    {
        var link = Path.Combine(_linkDir, key);
        PointLink(link, _m.Processes.RootOf(pid));
        var store = _dropping.Remove(key, out var kept) ? kept : _m.Stores.Acquire(key);
        var compiled = Policy.Policy.UnderRoot(link);
        var origin = new EventOrigin(_m.Identity.AgentId, _m.Identity.Hostname, link);
        var sink = new OutboxSink(_m.Outbox, _m.Ids, origin, _m.Loggers.CreateLogger<OutboxSink>(), enrich: e =>
        {
            e.Container = workload;
            _m.Resolver.Attribute(e);
        });
        var monitor = new ContainerMonitor(workload, pid, store);
        monitor.Start(compiled, new LiveContainerSink(sink, () => _m.Processes.Reaches(pid, workload.ContainerId!), Wake), _m.Loggers, _logger);
        lock (_running)
        {
            _running[key] = monitor;
        }
        _logger.LogInformation("policy {Policy}: monitoring container {Container} of pod {Namespace}/{Pod} through pid {Pid}",
            Policy.Name, workload.ContainerName, workload.PodNamespace, workload.PodName, pid);
    }

    /// <summary>Replaces the link in one step (a rename), so a path through it never dangles half-way.</summary>
    private static void PointLink(string link, string target)
    {
        var temp = link + ".new";
        File.Delete(temp);
        File.CreateSymbolicLink(temp, target);
        LinkNative.Replace(temp, link);
    }

    private async Task StopAsync(string key, ContainerMonitor monitor, bool drop)
    {
        lock (_running)
        {
            _running.Remove(key);
        }
        await monitor.DisposeAsync();
        File.Delete(Path.Combine(_linkDir, key));
        if (drop)
        {
            _logger.LogInformation("policy {Policy}: container {Container} of pod {Namespace}/{Pod} is gone; its baseline goes once its events are delivered",
                Policy.Name, monitor.Workload.ContainerName, monitor.Workload.PodNamespace, monitor.Workload.PodName);
            _dropping[key] = monitor.Store;
        }
        else
        {
            _m.Stores.Release(key);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _m.Pods.Changed -= Wake;
        await _stop.CancelAsync();
        if (_task is not null)
        {
            await _task;
        }
        List<(string Key, ContainerMonitor Monitor)> current;
        lock (_running)
        {
            current = [.. _running.Select(r => (r.Key, r.Value))];
        }
        foreach (var (key, monitor) in current)
        {
            await StopAsync(key, monitor, drop: false);
        }
        foreach (var key in _dropping.Keys)
        {
            _m.Stores.Release(key);
        }
        _dropping.Clear();
        _stop.Dispose();
    }

    /// <summary>
    /// Commits only while the container's process lives: when it exits, its root vanishes and a scan would find every
    /// file deleted. Such a batch is refused (the baseline keeps the container's last state) and the runner is woken
    /// to stop this monitor, or re-point it at the restarted container, which is then compared with that state.
    /// </summary>
    private sealed class LiveContainerSink(IChangeSink inner, Func<bool> alive, Action gone) : IChangeSink
    {
        public bool CanAccept => inner.CanAccept && alive();

        public bool Commit(MonitorSession session, ChangeBatch batch)
        {
            if (!alive())
            {
                gone();
                return false;
            }
            return inner.Commit(session, batch);
        }

        public void Notice(string message) => inner.Notice(message);
    }

    /// <summary>One container's watch loop over its store.</summary>
    private sealed class ContainerMonitor(Workload workload, int pid, Fim.Core.Baseline.BaselineStore store) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task? _task;

        public Workload Workload { get; } = workload;
        public int Pid { get; } = pid;
        public Fim.Core.Baseline.BaselineStore Store { get; } = store;
        public WatchLoop? Loop { get; private set; }

        public void Start(CompiledPolicy policy, IChangeSink sink, ILoggerFactory loggers, ILogger logger) => _task = Task.Run(async () =>
        {
            try
            {
                var session = MonitorSession.Attach(policy, Store);
                await using var watcher = new InotifyWatcher(new InotifyWatcherOptions(), loggers.CreateLogger<InotifyWatcher>());
                Loop = new WatchLoop(session, sink, watcher, logger, TimeProvider.System) { AlignBaselineWithPolicy = true };
                await Loop.RunAsync(_stop.Token);
            }
            catch (Exception e) when (!_stop.IsCancellationRequested)
            {
                // The container went away under the loop; the next reconcile restarts or drops it.
                logger.LogWarning("container {Container} of pod {Namespace}/{Pod}: monitoring stopped: {Error}", Workload.ContainerName, Workload.PodNamespace, Workload.PodName, e.Message);
            }
        });

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            if (_task is not null)
            {
                await _task;
            }
            _stop.Dispose();
        }
    }
}
