using Fim.Testing;
using System.Threading.Channels;
using k8s;
using k8s.Autorest;

namespace Fim.Testing.KubeApi.Tests.Support;

/// <summary>Collects what a real KubernetesClient Watcher reports: events, errors, and the close.</summary>
internal sealed class WatchCollector<T> : IDisposable
{
    private readonly Channel<(WatchEventType Type, T Object)> _events = Channel.CreateUnbounded<(WatchEventType, T)>();
    private readonly Channel<Exception> _errors = Channel.CreateUnbounded<Exception>();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Watcher<T> _watcher;

    private WatchCollector(Func<WatchCollector<T>, Watcher<T>> start) => _watcher = start(this);

    // WatcherExt.Watch is what controllers built on KubernetesClient use today; its replacement (ClientSets'
    // WatchList) exists only for built-in kinds, so the tests keep the generic one.
#pragma warning disable CS0618
    public static WatchCollector<T> Start<TList>(Task<HttpOperationResponse<TList>> response) =>
        new(c => response.Watch<T, TList>(
            (type, obj) => c._events.Writer.TryWrite((type, obj)),
            e => c._errors.Writer.TryWrite(e),
            () => c._closed.TrySetResult()));
#pragma warning restore CS0618

    public Task Closed => _closed.Task;

    public async Task<(WatchEventType Type, T Object)> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Eventually.DefaultTimeout);
        try
        {
            return await _events.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("timed out waiting for a watch event");
            throw;
        }
    }

    /// <summary>Skips events until one satisfies the predicate.</summary>
    public async Task<(WatchEventType Type, T Object)> NextMatchingAsync(Func<WatchEventType, T, bool> predicate, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Eventually.DefaultTimeout);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail("timed out waiting for a matching watch event");
            }

            var ev = await NextAsync(left);
            if (predicate(ev.Type, ev.Object))
            {
                return ev;
            }
        }
    }

    public async Task<Exception> NextErrorAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Eventually.DefaultTimeout);
        try
        {
            return await _errors.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("timed out waiting for a watch error");
            throw;
        }
    }

    public bool TryTakeEvent(out (WatchEventType Type, T Object) ev) => _events.Reader.TryRead(out ev);

    public void Dispose() => _watcher.Dispose();
}
