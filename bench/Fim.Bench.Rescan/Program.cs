// What a running agent does on schedule, timed in one process: the first baseline (scan + sealed snapshot
// save) of a tree, then unchanged rescans against the same store (scan; nothing to commit). Reports medians and
// the ratio rescan / baseline. The CLI's one-shot `fim-agent scan` adds runtime start and baseline load to both.
// Usage: dotnet run -c Release --project bench/Fim.Bench.Rescan -- [TREE] [--runs 3] [--rescans 5]
using System.Diagnostics;
using Fim.Core.Baseline;
using Fim.Core.Policy;
using Fim.Core.Scanning;

var tree = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "/usr/share";
var runs = IntArg("--runs", 3);
var rescans = IntArg("--rescans", 5);
var policy = PolicyCompiler.ForPaths([tree]);
var work = Path.Combine(Path.GetTempPath(), "fim-bench-rescan-" + Guid.NewGuid().ToString("N")[..8]);
var baselineTimes = new List<double>();
var rescanTimes = new List<double>();
try
{
    var key = BaselineKey.LoadOrCreate(Path.Combine(work, "key", "k"));
    for (var run = 0; run < runs; run++)
    {
        var stateDir = Path.Combine(work, $"state{run}");
        using var store = BaselineStore.Open(stateDir, key);
        var sw = Stopwatch.StartNew();
        var first = new Scanner(policy, new ScanOptions { RecordOnly = true }).Scan(store.Records);
        foreach (var u in first.Updates)
        {
            store.Records.Set(u.Record!);
        }
        store.Save(new Dictionary<string, string>());
        baselineTimes.Add(sw.Elapsed.TotalSeconds);
        for (var i = 0; i < rescans; i++)
        {
            sw.Restart();
            var again = new Scanner(policy).Scan(store.Records);
            rescanTimes.Add(sw.Elapsed.TotalSeconds);
            if (again.Changes.Count != 0)
            {
                Console.WriteLine($"warning: {again.Changes.Count} changes during the benchmark (the tree is not quiet)");
            }
        }
        Console.WriteLine($"run {run + 1}: baseline {baselineTimes[^1]:F3} s ({first.Stats.Entries:N0} entries, {first.Stats.BytesHashed / 1e6:N0} MB hashed); " +
            $"rescans {string.Join(", ", rescanTimes.TakeLast(rescans).Select(t => t.ToString("F3")))} s");
    }
    var b = Median(baselineTimes);
    var r = Median(rescanTimes);
    Console.WriteLine($"median: baseline {b:F3} s, unchanged rescan {r:F3} s, ratio {r / b:F3} (target <= 0.1)");
}
finally
{
    Directory.Delete(work, recursive: true);
}

static double Median(List<double> xs)
{
    var s = xs.Order().ToList();
    return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
}

int IntArg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}
