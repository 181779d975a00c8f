using System.Text;
using Fim.Core.Baseline;
using Fim.Core.Model;

namespace Fim.Core.Tests.Baseline;

public class RecordTableTests
{
    private static FileRecord R(string path, long size = 0) => new() { Path = Encoding.UTF8.GetBytes(path), Size = size };

    [Fact]
    public void Adds_replaces_removes_and_reuses_slots_across_resizes()
    {
        var table = new RecordTable(0);
        for (var i = 0; i < 5000; i++)
        {
            Assert.Null(table.Set(R($"/d/{i}")));
        }
        Assert.Equal(5000, table.Count);
        Assert.Equal(0, table.Set(R("/d/7", 70))!.Size);
        Assert.True(table.TryGet("/d/7"u8, out var seven));
        Assert.Equal(70, seven.Size);
        for (var i = 0; i < 5000; i += 2)
        {
            Assert.NotNull(table.Remove(Encoding.UTF8.GetBytes($"/d/{i}")));
        }
        Assert.Null(table.Remove("/d/0"u8));
        Assert.Equal(2500, table.Count);
        Assert.False(table.TryGet("/d/4"u8, out _));
        // Removing and adding over and over must not fill the table with tombstones.
        for (var round = 0; round < 20; round++)
        {
            for (var i = 0; i < 5000; i += 2)
            {
                table.Set(R($"/d/{i}", round));
            }
            for (var i = 0; i < 5000; i += 2)
            {
                table.Remove(Encoding.UTF8.GetBytes($"/d/{i}"));
            }
        }
        Assert.Equal(2500, table.Count);
        Assert.Equal(2500, table.All.Count());
        Assert.All(table.All, r => Assert.True(int.Parse(Encoding.UTF8.GetString(r.Path)[3..]) % 2 == 1));
    }

    [Fact]
    public async Task Readers_always_find_records_that_stay_while_a_writer_adds_and_removes_others()
    {
        var table = new RecordTable(0);
        for (var i = 0; i < 1000; i++)
        {
            table.Set(R($"/stay/{i}"));
        }
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            for (var i = 0; i < 200_000 && !stop.IsCancellationRequested; i++)
            {
                table.Set(R($"/churn/{i % 3000}", i));
                table.Remove(Encoding.UTF8.GetBytes($"/churn/{(i + 1500) % 3000}"));
            }
        });
        var misses = 0;
        var reader = Task.Run(() =>
        {
            var keys = Enumerable.Range(0, 1000).Select(i => Encoding.UTF8.GetBytes($"/stay/{i}")).ToArray();
            while (!writer.IsCompleted)
            {
                foreach (var k in keys)
                {
                    if (!table.TryGet(k, out var r) || !r.Path.AsSpan().SequenceEqual(k))
                    {
                        Interlocked.Increment(ref misses);
                    }
                }
            }
        });
        await Task.WhenAll(writer, reader).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(0, misses);
    }
}
