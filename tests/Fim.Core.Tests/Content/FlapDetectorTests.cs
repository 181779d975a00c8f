using Fim.Contracts;
using Fim.Core.Content;
using Fim.Core.Events;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Rules;
using Microsoft.Extensions.Time.Testing;

namespace Fim.Core.Tests.Content;

public sealed class FlapDetectorTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));
    private static readonly byte[] Path = PathBytes.FromString("/etc/resolv.conf");

    private FileChange Change(int n) => new(ChangeKind.Modified, Path,
        new FileRecord { Path = Path, Type = FileType.Regular, Size = n }, new FileRecord { Path = Path, Type = FileType.Regular, Size = n + 1 },
        ChangedAttributes.Size, DetectionSource.Realtime, _time.GetUtcNow());

    [Fact]
    public void A_flapping_file_is_reported_once_with_a_count_then_summarised_per_window_until_it_settles()
    {
        var flap = new FlapDetector(new FlappingSettings(3, TimeSpan.FromMinutes(10)), _time);
        var reported = new List<FileChange>();
        var total = 0;
        void See(int n)
        {
            total++;
            reported.AddRange(flap.Filter([Change(n)]));
            _time.Advance(TimeSpan.FromSeconds(30));
        }

        for (var i = 0; i < 3; i++)
        {
            See(i);
        }
        Assert.Equal(3, reported.Count);
        Assert.All(reported, c => Assert.Null(c.Flapping));

        See(3); // the fourth change within 10 minutes crosses the threshold
        var started = reported[^1];
        Assert.Equal(FlappingInfo.Started, started.Flapping!.State);
        Assert.Equal(4, started.Flapping.Changes);
        Assert.Equal(600, started.Flapping.WindowSeconds);

        for (var i = 4; i < 14; i++)
        {
            See(i);
        }
        Assert.Equal(4, reported.Count); // held, not dropped: counted for the summary
        Assert.Empty(flap.TakeSummaries()); // not due yet

        _time.Advance(flap.NextDue - _time.GetUtcNow());
        var summary = Assert.Single(flap.TakeSummaries());
        Assert.Equal(FlappingInfo.Ongoing, summary.Flapping!.State);
        Assert.Equal(10, summary.Flapping.Changes);
        Assert.Equal(4, summary.Before!.Size); // from the first held change ...
        Assert.Equal(14, summary.After!.Size); // ... to the last
        reported.Add(summary);

        // Still changing in the next window: one more summary.
        See(14);
        See(15);
        _time.Advance(flap.NextDue - _time.GetUtcNow());
        var second = Assert.Single(flap.TakeSummaries());
        Assert.Equal(2, second.Flapping!.Changes);
        reported.Add(second);

        // A quiet window: settled, no summary, and the next change is reported plainly again.
        _time.Advance(flap.NextDue - _time.GetUtcNow());
        Assert.Empty(flap.TakeSummaries());
        Assert.Equal(DateTimeOffset.MaxValue, flap.NextDue);
        See(16);
        Assert.Null(reported[^1].Flapping);
        Assert.Equal(0, flap.FlappingCount);

        // Never silently dropped: every change is an event of its own or counted in a summary.
        var accounted = reported.Sum(c => c.Flapping?.State == FlappingInfo.Ongoing ? c.Flapping.Changes : 1);
        Assert.Equal(total, accounted);
    }

    [Fact]
    public void Changes_spread_wider_than_the_window_never_flap()
    {
        var flap = new FlapDetector(new FlappingSettings(2, TimeSpan.FromMinutes(1)), _time);
        for (var i = 0; i < 20; i++)
        {
            Assert.Null(Assert.Single(flap.Filter([Change(i)])).Flapping);
            _time.Advance(TimeSpan.FromSeconds(31));
        }
    }

    [Fact]
    public void Flapping_alerts_are_tagged_flapping()
    {
        var flap = new FlapDetector(new FlappingSettings(1, TimeSpan.FromMinutes(1)), _time);
        flap.Filter([Change(0)]);
        var started = Assert.Single(flap.Filter([Change(1)]));
        var e = EventRecords.From(started, EventOrigin.Local(), "a:b:1");
        var alert = RuleSet.Default.Evaluate(started, e, new AlertContext(new Dictionary<string, string>(), null, []))!;

        Assert.Contains(RuleSet.FlappingTag, alert.Tags);
        Assert.Equal(FlappingInfo.Started, alert.Flapping!.State);
        Assert.Contains("\"flapping\":{\"state\":\"started\",\"changes\":2", ContractJson.ToText(alert));
    }

    [Fact]
    public void The_policy_section_is_validated()
    {
        var ok = PolicyCompiler.Compile(new PolicySpec { Paths = [new PathRule { Path = "/etc" }], Flapping = new FlappingSpec { Changes = 5, Window = "10m" } });
        Assert.Equal(new FlappingSettings(5, TimeSpan.FromMinutes(10)), ok.Flapping);
        var bad = Assert.Throws<PolicyException>(() =>
            PolicyCompiler.Compile(new PolicySpec { Paths = [new PathRule { Path = "/etc" }], Flapping = new FlappingSpec { Changes = 0 } }));
        Assert.Contains("flapping.changes", bad.Message);
        Assert.Contains("flapping.window", bad.Message);
    }
}
