using System.Diagnostics;

/// <summary>Items per second of a timed piece of work, for every phase of the store bench.</summary>
internal static class Timing
{
    public static async Task<double> RateAsync(Func<Task> work, int count)
    {
        var clock = Stopwatch.StartNew();
        await work();
        return count / clock.Elapsed.TotalSeconds;
    }
}
