namespace Fim.Testing.KubeApi.Tests.Support;

/// <summary>Awaiting conditions with a deadline: a test fails with a message instead of hanging or guessing with sleeps.</summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public static async Task True(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            if (await condition())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {(timeout ?? DefaultTimeout).TotalSeconds}s waiting for: {what}");
            }

            await Task.Delay(25);
        }
    }

    public static Task True(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        True(() => Task.FromResult(condition()), what, timeout);

    public static async Task<T> Within<T>(Task<T> task, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var done = await Task.WhenAny(task, Task.Delay(limit));
        if (done != task)
        {
            Assert.Fail($"timed out after {limit.TotalSeconds}s waiting for: {what}");
        }

        return await task;
    }

    public static async Task Within(Task task, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var done = await Task.WhenAny(task, Task.Delay(limit));
        if (done != task)
        {
            Assert.Fail($"timed out after {limit.TotalSeconds}s waiting for: {what}");
        }

        await task;
    }
}
