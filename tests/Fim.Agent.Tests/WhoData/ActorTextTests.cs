using Fim.Agent.Output;
using Fim.Contracts;

namespace Fim.Agent.Tests.WhoData;

public sealed class ActorTextTests
{
    [Fact]
    public void The_terminal_shows_who_wrote_and_escapes_what_the_writer_controls()
    {
        var e = new FileEvent
        {
            Path = "/etc/passwd",
            Kind = "modified",
            ObservedAt = DateTimeOffset.UnixEpoch,
            Actor = new Actor
            {
                Pid = 4242,
                Process = "vim",
                Executable = "/usr/bin/vim.basic",
                Uid = 0,
                User = "root",
                Euid = 0,
                LoginUid = 1000,
                LoginUser = "alice",
                CommandLine = "vim \u001b[31m/etc/passwd",
            },
        };
        var text = new StringWriter();
        new HumanOutput(text, color: false).Write(e, null);

        var line = text.ToString().Split('\n')[1];
        Assert.StartsWith("      by vim (pid 4242, /usr/bin/vim.basic) uid 0 root, login alice: vim ", line);
        Assert.DoesNotContain("\u001b", line);
    }

    [Fact]
    public void An_unknown_writer_says_why()
    {
        Assert.Equal("by unknown (pid 7: pid-reused)", ActorText.Describe(new Actor { Pid = 7, Unknown = "pid-reused" }));
    }
}
