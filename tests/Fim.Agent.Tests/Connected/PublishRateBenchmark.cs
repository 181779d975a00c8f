using System.Diagnostics;
using System.Globalization;
using Fim.Core.Events;
using NATS.Client.JetStream.Models;
using Xunit.Abstractions;

namespace Fim.Agent.Tests.Connected;

/// <summary>Runs only with FIM_BENCH=1: a measurement, not a test.</summary>
public sealed class BenchFactAttribute : FactAttribute
{
    public BenchFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("FIM_BENCH") != "1")
        {
            Skip = "benchmark: set FIM_BENCH=1";
        }
    }
}

/// <summary>
/// How fast the real agent drains its outbox into JetStream: fill it with NATS down, start NATS, time from the
/// first stored event to the last by the stream's own timestamps.
/// FIM_BENCH=1 [FIM_BENCH_EVENTS=20000] [FIM_BENCH_INFLIGHT=256] dotnet test tests/Fim.Agent.Tests --filter PublishRateBenchmark
/// </summary>
public sealed class PublishRateBenchmark(ITestOutputHelper output)
{
    [BenchFact]
    public async Task Outbox_drain_rate()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("FIM_BENCH_EVENTS"), out var n) ? n : 20_000;
        var inFlight = Environment.GetEnvironmentVariable("FIM_BENCH_INFLIGHT") ?? "256";
        await using var h = await ConnectedHarness.StartAsync("bench");
        h.Tree.Write("bulk/seed", "0");
        h.WriteConfig(policyFile: h.WritePolicy("bulk", h.Tree["bulk"]));
        var agent = h.StartAgent(new Dictionary<string, string> { ["FIM_PUBLISHMAXINFLIGHT"] = inFlight });
        agent.AwaitLog("revision 0 applied", ConnectedHarness.Deadline);
        await h.Server.StopAsync();
        for (var i = 0; i < count; i++)
        {
            File.WriteAllText(h.Tree[$"bulk/f{i:D6}"], "x");
        }
        await h.AwaitMetricAsync("fim_agent_outbox_depth", v => v >= count, () => agent.Stderr);
        await h.Server.StartAsync();

        StreamState? state = null;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(5))
        {
            try
            {
                state = (await h.Js.GetStreamAsync(Subjects.EventsStream)).Info.State;
                if (state.Messages >= count)
                {
                    break;
                }
            }
            catch (Exception)
            {
                // The admin connection is still reconnecting.
            }
            await Task.Delay(50);
        }
        Assert.True(state?.Messages >= count, $"{state?.Messages} of {count} stored");
        var elapsed = DateTimeOffset.Parse(state!.LastTs, CultureInfo.InvariantCulture) - DateTimeOffset.Parse(state.FirstTs, CultureInfo.InvariantCulture);
        output.WriteLine($"publishMaxInFlight {inFlight}: {state.Messages} events stored in {elapsed.TotalSeconds:F2} s (stream timestamps): {state.Messages / elapsed.TotalSeconds:F0} events/s");
    }
}
