// Close-to-notification latency of the inotify watcher: writes files (open, write, close), stamps each right
// after close(), and stamps the PathChanged{Written} for it as the consumer receives it.
// Usage: dotnet run -c Release --project bench/Fim.Bench.Realtime -- [--files 1000] [--interval-ms 1] [--runs 3]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Fim.Agent.Realtime;
using Fim.Core.Model;
using Microsoft.Extensions.Logging.Abstractions;

var files = IntArg("--files", 1000);
var intervalMs = IntArg("--interval-ms", 1);
var runs = IntArg("--runs", 3);

var dir = Path.Combine(Path.GetTempPath(), "fim-bench-rt-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(dir);
try
{
    Console.WriteLine($"{files} files per run, {intervalMs} ms between files (0 = back to back), {runs} runs + warm-up, in {dir}");
    Console.WriteLine($"{Environment.ProcessorCount} CPUs, {Environment.OSVersion}, .NET {Environment.Version}");
    await RunAsync(dir, "warmup", 200, intervalMs, print: false);
    for (var r = 1; r <= runs; r++)
    {
        await RunAsync(dir, $"run{r}", files, intervalMs, print: true);
    }
    await RunAsync(dir, "burst", files, 0, print: true);
}
finally
{
    Directory.Delete(dir, recursive: true);
}

static async Task RunAsync(string root, string label, int count, int intervalMs, bool print)
{
    var runDir = Path.Combine(root, label);
    Directory.CreateDirectory(runDir);
    var closingAt = new long[count];
    var closedAt = new long[count];
    var seenAt = new long[count];
    var prefix = Encoding.UTF8.GetBytes(runDir + "/f");
    await using var watcher = new InotifyWatcher(new InotifyWatcherOptions(), NullLogger<InotifyWatcher>.Instance);
    watcher.AddRoot(PathBytes.FromString(runDir), _ => true);
    using var cts = new CancellationTokenSource();
    var loop = Task.Factory.StartNew(() => watcher.RunAsync(cts.Token), CancellationToken.None,
        TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    var remaining = count;
    var allSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    var consumer = Task.Run(async () =>
    {
        await foreach (var n in watcher.Notifications.ReadAllAsync())
        {
            var now = Stopwatch.GetTimestamp();
            if (n is PathChanged { Hint: var hint } change && hint.HasFlag(ChangeHint.Written)
                && change.Path.AsSpan().StartsWith(prefix)
                && int.TryParse(change.Path.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var i)
                && i < count && seenAt[i] == 0)
            {
                seenAt[i] = now;
                if (Interlocked.Decrement(ref remaining) == 0)
                {
                    allSeen.TrySetResult();
                }
            }
        }
    });

    var payload = "0123456789abcdef\n"u8.ToArray();
    for (var i = 0; i < count; i++)
    {
        var handle = File.OpenHandle(Path.Combine(runDir, "f" + i.ToString(CultureInfo.InvariantCulture)), FileMode.Create, FileAccess.Write);
        RandomAccess.Write(handle, payload, 0);
        closingAt[i] = Stopwatch.GetTimestamp();
        handle.Dispose();
        closedAt[i] = Stopwatch.GetTimestamp();
        if (intervalMs > 0)
        {
            Thread.Sleep(intervalMs);
        }
    }

    var complete = await Task.WhenAny(allSeen.Task, Task.Delay(TimeSpan.FromSeconds(30))) == allSeen.Task;
    await cts.CancelAsync();
    await loop;
    await consumer;
    if (!print)
    {
        return;
    }
    // After-close stamps are what was asked for, but the reader often delivers before the writer thread gets to
    // stamp (counted as 0 ms), so the before-close figure is printed too as an upper bound.
    var afterClose = new List<double>(count);
    var beforeClose = new List<double>(count);
    var early = 0;
    for (var i = 0; i < count; i++)
    {
        if (seenAt[i] == 0)
        {
            continue;
        }
        early += seenAt[i] < closedAt[i] ? 1 : 0;
        afterClose.Add(Math.Max(0, Stopwatch.GetElapsedTime(closedAt[i], seenAt[i]).TotalMilliseconds));
        beforeClose.Add(Stopwatch.GetElapsedTime(closingAt[i], seenAt[i]).TotalMilliseconds);
    }
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{label,-6} interval={intervalMs}ms n={afterClose.Count}/{count}{(complete ? "" : " INCOMPLETE")} overflows={watcher.Counters.Overflows} " +
        $"notifications={watcher.Counters.NotificationsEmitted} seen-before-close-stamp={early}"));
    Print("  from after close()", afterClose);
    Print("  from before close()", beforeClose);
}

static void Print(string what, List<double> values)
{
    values.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{what,-21} p50={P(values, 0.50):F3} p95={P(values, 0.95):F3} p99={P(values, 0.99):F3} max={values[^1]:F3} ms"));
}

static double P(List<double> sorted, double q) => sorted[Math.Max(0, (int)Math.Ceiling(q * sorted.Count) - 1)];

int IntArg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
