using System.Diagnostics;

namespace Fim.Testing;

/// <summary>
/// Awaits a condition with a deadline instead of sleeping and hoping: polls quickly, and on timeout fails with what
/// was awaited, the last state the caller describes and the last error the condition threw.
/// </summary>
public static class Eventually
{
    /// <summary>Generous on purpose: the suite must pass on two saturated cores; a passing wait returns at once.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    public static Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        TrueAsync(condition, () => what, timeout);

    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        TrueAsync(() => Task.FromResult(condition()), () => what, timeout);

    public static Task TrueAsync(Func<bool> condition, Func<string> what, TimeSpan? timeout = null) =>
        TrueAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary><paramref name="what"/> is computed at failure time, so it can show the last state seen.</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, Func<string> what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var elapsed = Stopwatch.StartNew();
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e)
            {
                last = e;
            }

            if (elapsed.Elapsed > limit)
            {
                throw new TimeoutException(
                    $"after {limit.TotalSeconds:0.#} s still not: {what()}{(last is null ? "" : $" (last error: {last.Message})")}", last);
            }

            await Task.Delay(PollInterval);
        }
    }

    /// <summary>Waits until <paramref name="read"/> returns at least <paramref name="count"/> items, then returns them.</summary>
    public static async Task<IReadOnlyList<T>> CountAsync<T>(Func<Task<IReadOnlyList<T>>> read, int count, string what, TimeSpan? timeout = null)
    {
        IReadOnlyList<T> items = [];
        await TrueAsync(async () => (items = await read()).Count >= count, () => $"{what} (have {items.Count}, want {count})", timeout);
        return items;
    }

    /// <summary>Awaits <paramref name="task"/>, failing with <paramref name="what"/> if it has not finished by the deadline.</summary>
    public static async Task<T> WithinAsync<T>(Task<T> task, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        try
        {
            return await task.WaitAsync(limit);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"after {limit.TotalSeconds:0.#} s still not: {what}", e);
        }
    }

    public static Task WithinAsync(Task task, string what, TimeSpan? timeout = null) =>
        WithinAsync(AsValueless(task), what, timeout);

    private static async Task<bool> AsValueless(Task task)
    {
        await task;
        return true;
    }
}
