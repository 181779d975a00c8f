using System.Collections.Concurrent;
using Fim.Operator.Controllers.Pool;
using Fim.Testing;
using k8s;
using k8s.Models;

namespace Fim.Operator.Tests.Support;

/// <summary>
/// What the ReplicaSet controller and the kubelet would do for a pool, with real manager processes as its pods (the API
/// double runs no pods). Keeps <see cref="Replicas"/> pods in the double, each backed by one manager process and
/// labelled like the pool's pod template; a pod is marked Ready once its manager's /readyz answers 200. A pod deleted on
/// the double (by the operator's chaos mode) has its process stopped, alternately with SIGTERM, as the kubelet does, and
/// SIGKILL, as after an expired grace period or a node crash, and a replacement pod and process are started.
/// </summary>
internal sealed class ManagerPods(IKubernetes client, string ns, string pool, ManagerProcesses managers) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ManagerProcesses.Manager> _pods = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private int _stopped;
    private int _disposed;

    public int Replicas { get; private set; }

    /// <summary>Pods whose deletion was seen and whose manager was stopped.</summary>
    public int Stopped => Volatile.Read(ref _stopped);

    public IReadOnlyCollection<string> Pods => [.. _pods.Keys];

    public async Task StartAsync(int replicas, bool markReady = true)
    {
        Replicas = replicas;
        for (var i = 0; i < replicas; i++)
        {
            await AddPodAsync(markReady);
        }

        _loop = Task.Run(() => LoopAsync(_stop.Token));
    }

    /// <summary>Creates one pod and starts its manager; Ready once the manager is (when <paramref name="markReady"/>).</summary>
    public async Task<string> AddPodAsync(bool markReady = true)
    {
        var name = $"{pool}-{Guid.NewGuid().ToString("N")[..5]}";
        var manager = managers.Start();
        _pods[name] = manager;
        await client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = PoolLabels.For(pool) },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "manager", Image = "fim-manager:test" }] },
        }, ns);
        await SetReadyAsync(name, false);
        if (markReady)
        {
            _ = Task.Run(async () =>
            {
                await ManagerProcesses.AwaitReadyAsync(manager);
                await SetReadyAsync(name, true);
            });
        }

        return name;
    }

    public async Task SetReadyAsync(string name, bool ready)
    {
        var status = new V1Pod
        {
            Status = new V1PodStatus
            {
                Phase = "Running",
                Conditions = [new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False" }],
            },
        };
        await client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(KubernetesJson.Serialize(status), V1Patch.PatchType.MergePatch), name, ns);
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var live = (await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: $"{PoolLabels.PoolLabel}={pool}", cancellationToken: ct))
                    .Items.Select(p => p.Metadata.Name).ToHashSet(StringComparer.Ordinal);
                foreach (var gone in _pods.Keys.Where(k => !live.Contains(k)).ToList())
                {
                    if (_pods.TryRemove(gone, out var m))
                    {
                        var n = Interlocked.Increment(ref _stopped);
                        if (n % 2 == 1)
                        {
                            m.Process.Kill(); // SIGKILL
                        }
                        else
                        {
                            ChildProcess.Run("kill", ["-TERM", m.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                        }

                        await AddPodAsync();
                    }
                }

                await Task.Delay(100, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop.ContinueWith(_ => { });
        }

        _stop.Dispose();
    }
}
