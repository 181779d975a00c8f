using Fim.Core.Policy;

namespace Fim.Core.Tests.Policy;

public class ByteSizeTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1048576", 1048576L)]
    [InlineData(" 42 ", 42L)]
    [InlineData("10B", 10L)]
    [InlineData("1K", 1000L)]
    [InlineData("1k", 1000L)]
    [InlineData("1Ki", 1024L)]
    [InlineData("1KiB", 1024L)]
    [InlineData("500M", 500_000_000L)]
    [InlineData("500MB", 500_000_000L)]
    [InlineData("500mb", 500_000_000L)]
    [InlineData("50Mi", 50L * 1024 * 1024)]
    [InlineData("2G", 2_000_000_000L)]
    [InlineData("2Gi", 2L * 1024 * 1024 * 1024)]
    [InlineData("2 GiB", 2L * 1024 * 1024 * 1024)]
    [InlineData("3T", 3_000_000_000_000L)]
    [InlineData("3Ti", 3L * 1024 * 1024 * 1024 * 1024)]
    [InlineData("1.5Ki", 1536L)]
    [InlineData("-1", -1L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void Parses_bytes_and_units(string text, long expected)
    {
        Assert.Equal(expected, ByteSize.Parse(text));
        Assert.True(ByteSize.TryParse(text, out var viaTry));
        Assert.Equal(expected, viaTry);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Gi")]
    [InlineData("2X")]
    [InlineData("2 Gigabytes")]
    [InlineData("2iB")]
    [InlineData("1,000")]
    [InlineData("0x10")]
    [InlineData("1.")]
    [InlineData("two")]
    public void Rejects_malformed_sizes_naming_the_text(string text)
    {
        var error = Assert.Throws<FormatException>(() => ByteSize.Parse(text));
        Assert.Contains($"'{text}'", error.Message);
        Assert.Contains("Gi", error.Message); // the message shows what is accepted
        Assert.False(ByteSize.TryParse(text, out _));
    }

    [Theory]
    [InlineData("9223372036854775808", "too large")]
    [InlineData("99999999999999999999T", "too large")]
    [InlineData("1.0001K", "whole number")]
    [InlineData("0.5", "whole number")]
    public void Rejects_sizes_that_are_not_a_long_number_of_bytes(string text, string reason)
    {
        var error = Assert.Throws<FormatException>(() => ByteSize.Parse(text));
        Assert.Contains($"'{text}'", error.Message);
        Assert.Contains(reason, error.Message);
    }
}
