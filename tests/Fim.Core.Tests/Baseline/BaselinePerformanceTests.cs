using System.Diagnostics;
using Fim.Core.Baseline;
using Xunit.Abstractions;

namespace Fim.Core.Tests.Baseline;

public class BaselinePerformanceTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> Meta = new() { ["policy"] = "p1" };

    [Fact]
    public void HundredThousandRecordsSaveAndLoadExactly()
    {
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        var records = TestRecords.Many(100_000);
        Warm(dir, key);

        TimeSpan save;
        using (var store = BaselineStore.Open(Path.Combine(dir.Path, "big"), key))
        {
            records.ForEach(store.Records.Set);
            var sw = Stopwatch.StartNew();
            store.Save(Meta);
            save = sw.Elapsed;
        }
        var size = new FileInfo(Path.Combine(dir.Path, "big", BaselineStore.SnapshotFileName)).Length;

        var load = Stopwatch.StartNew();
        using (var store = BaselineStore.Open(Path.Combine(dir.Path, "big"), key))
        {
            load.Stop();
            TestRecords.AssertContainsExactly(records, store.Records);
        }
        output.WriteLine($"100k records: save {save.TotalMilliseconds:F0} ms, load {load.Elapsed.TotalMilliseconds:F0} ms, snapshot {size / 1024} KiB");
        // Timing is printed for the record only; speed is judged by bench/, not by unit tests.
    }

    [Fact]
    public void AMillionRecordsSaveAndLoad()
    {
        const int count = 1_000_000;
        using var dir = new TempDir();
        var key = BaselineKey.LoadOrCreate(dir.KeyFile);
        var save = Stopwatch.StartNew();
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            for (var i = 0; i < count; i++)
            {
                store.Records.Set(TestRecords.Make(i));
            }
            save.Restart();
            store.Save(Meta);
            save.Stop();
        }
        var load = Stopwatch.StartNew();
        using (var store = BaselineStore.Open(dir.StateDir, key))
        {
            load.Stop();
            Assert.Equal(count, store.Records.Count);
            // Records are regenerated rather than kept, so the test holds one copy of the million, not two.
            for (var i = 0; i < count; i += 997)
            {
                var expected = TestRecords.Make(i);
                Assert.True(store.Records.TryGet(expected.Path, out var actual));
                TestRecords.AssertEqual(expected, actual);
            }
        }
        var size = new FileInfo(dir.File(BaselineStore.SnapshotFileName)).Length;
        output.WriteLine($"1M records: save {save.ElapsedMilliseconds} ms, load {load.ElapsedMilliseconds} ms, snapshot {size >> 20} MiB");
    }

    private static void Warm(TempDir dir, BaselineKey key)
    {
        using var store = BaselineStore.Open(Path.Combine(dir.Path, "warm"), key);
        TestRecords.Many(1000).ForEach(store.Records.Set);
        store.Save(Meta);
        store.Append([BaselineUpdate.Upsert(TestRecords.Make(1, "/w"))]);
        using var again = BaselineStore.Open(Path.Combine(dir.Path, "warm2"), key);
    }
}
