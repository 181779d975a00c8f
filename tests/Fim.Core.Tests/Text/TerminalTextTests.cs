using Fim.Contracts.Text;

namespace Fim.Core.Tests.Text;

public class TerminalTextTests
{
    [Theory]
    [InlineData("evil\u001b[2Jname", @"evil\e[2Jname")]
    [InlineData("red\u001b[31mtext\u001b[0m", @"red\e[31mtext\e[0m")]
    [InlineData("a\rbaseline recorded: 0 entries, all good", @"a\rbaseline recorded: 0 entries, all good")]
    [InlineData("line\nforged: all good", @"line\nforged: all good")]
    [InlineData("tab\there", @"tab\there")]
    [InlineData("nul\0bell\u0007del\u007f", @"nul\x00bell\x07del\x7f")]
    [InlineData("c1\u009bcsi", @"c1\u009Bcsi")]
    [InlineData("bidi\u202eexe.txt", @"bidi\u202Eexe.txt")]
    [InlineData("iso\u2066x\u2069", @"iso\u2066x\u2069")]
    [InlineData("sep\u2028x", @"sep\u2028x")]
    public void Escapes_every_character_that_can_drive_a_terminal_or_start_a_line(string raw, string shown)
    {
        Assert.Equal(shown, TerminalText.Escape(raw));
        Assert.DoesNotContain(TerminalText.Escape(raw), c => char.IsControl(c));
        Assert.True(TerminalText.NeedsEscaping(raw));
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("/srv/données/日本語/😀.txt")]
    [InlineData(@"/a\xff/b")] // PathBytes.ToDisplay's escape for a byte that is not UTF-8 stays readable
    [InlineData("")]
    public void Leaves_printable_text_untouched(string text)
    {
        Assert.Same(text, TerminalText.Escape(text));
        Assert.False(TerminalText.NeedsEscaping(text));
    }

    [Fact]
    public void A_lone_surrogate_is_escaped_and_a_pair_is_kept()
    {
        Assert.Equal(@"lone\uD800x", TerminalText.Escape("lone" + (char)0xD800 + "x"));
        Assert.Equal("😀", TerminalText.Escape("😀"));
    }

    [Fact]
    public void Null_is_empty() => Assert.Equal("", TerminalText.Escape(null));
}
