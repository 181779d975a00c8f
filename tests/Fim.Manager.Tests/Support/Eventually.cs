using System.Diagnostics;

namespace Fim.Manager.Tests.Support;

/// <summary>Awaits a condition with a deadline (no sleep-and-hope): polls quickly, fails with a message saying what never happened.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeout;
        while (!await condition())
        {
            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"after {limit.TotalSeconds:0.#} s still not: {what}");
            }
            await Task.Delay(20);
        }
    }

    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        TrueAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary>Waits until <paramref name="read"/> returns at least <paramref name="count"/> items, then returns them.</summary>
    public static async Task<IReadOnlyList<T>> CountAsync<T>(Func<Task<IReadOnlyList<T>>> read, int count, string what, TimeSpan? timeout = null)
    {
        IReadOnlyList<T> items = [];
        await TrueAsync(async () => (items = await read()).Count >= count, $"{what} (have {items.Count}, want {count})", timeout);
        return items;
    }
}
