using Fim.Core.Policy;

namespace Fim.Core.Tests.Policy;

public class DurationTextTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("3600", 3600L)]
    [InlineData("90s", 90L)]
    [InlineData("30m", 30L * 60)]
    [InlineData("12h", 12L * 3600)]
    [InlineData("7d", 7L * 86400)]
    [InlineData("1h30m", 5400L)]
    [InlineData("1d12h", 36L * 3600)]
    [InlineData("1d2h3m4s", 86400L + 7200 + 180 + 4)]
    [InlineData(" 15m ", 900L)]
    public void Parses_seconds_and_unit_combinations(string text, long expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), DurationText.Parse(text));
        Assert.True(DurationText.TryParse(text, out var viaTry));
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), viaTry);
    }

    [Theory]
    [InlineData("")]
    [InlineData("h")]
    [InlineData("12H")]
    [InlineData("1.5h")]
    [InlineData("-5m")]
    [InlineData("30m1h")]
    [InlineData("1h1h")]
    [InlineData("1h 30m")]
    [InlineData("10ms")]
    [InlineData("1w")]
    [InlineData("soon")]
    public void Rejects_malformed_durations_naming_the_text(string text)
    {
        var error = Assert.Throws<FormatException>(() => DurationText.Parse(text));
        Assert.Contains($"'{text}'", error.Message);
        Assert.Contains("1h30m", error.Message); // the message shows what is accepted
        Assert.False(DurationText.TryParse(text, out _));
    }

    [Fact]
    public void Rejects_durations_longer_than_a_TimeSpan()
    {
        var error = Assert.Throws<FormatException>(() => DurationText.Parse("999999999999999999d"));
        Assert.Contains("too long", error.Message);
    }
}
