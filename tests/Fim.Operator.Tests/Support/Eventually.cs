namespace Fim.Operator.Tests.Support;

/// <summary>Await a condition with a deadline; fail with what was awaited, never sleep-and-hope.</summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    public static Task True(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) => True(condition, () => what, timeout);

    /// <summary>what is computed at failure time, so it can show the last state seen.</summary>
    public static async Task True(Func<Task<bool>> condition, Func<string> what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
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
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                last = e;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {limit.TotalSeconds}s waiting for: {what()}{(last is null ? "" : $" (last error: {last.Message})")}");
            }

            await Task.Delay(25);
        }
    }

    public static Task True(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        True(() => Task.FromResult(condition()), what, timeout);
}
