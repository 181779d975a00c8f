using System.Text;
using Fim.Core.Policy;
using Fim.Testing;

namespace Fim.Core.Tests.Policy;

public class PathGlobTests
{
    [Theory]
    // No '/': the file name at any depth.
    [InlineData("*.log", "/var/log/syslog.log", true)]
    [InlineData("*.log", "/x.log", true)]
    [InlineData("*.log", "/var/log.d/syslog", false)]
    [InlineData("*.log", "/var/log/syslog.log.1", false)]
    [InlineData("*.swp", "/etc/.passwd.swp", true)]
    [InlineData("lost+found", "/srv/lost+found", true)]
    [InlineData("lost+found", "/srv/lostfound", false)]
    [InlineData("lost+found", "/srv/lost+found/x", false)]
    [InlineData("?.conf", "/etc/a.conf", true)]
    [InlineData("?.conf", "/etc/ab.conf", false)]
    [InlineData("**", "/anything/at/all", true)]
    // Leading '/': the whole path.
    [InlineData("/etc/*.conf", "/etc/host.conf", true)]
    [InlineData("/etc/*.conf", "/etc/ssh/sshd.conf", false)]
    [InlineData("/etc/*.conf", "/usr/etc/host.conf", false)]
    [InlineData("/etc/?", "/etc/a", true)]
    [InlineData("/etc/?", "/etc/", false)]
    [InlineData("/etc/?", "/etc/ab", false)]
    [InlineData("/etc", "/etc", true)]
    [InlineData("/etc", "/etc/passwd", false)]
    [InlineData("/etc/", "/etc", true)]
    // '**' crosses segments.
    [InlineData("/var/lib/**", "/var/lib/dpkg/status", true)]
    [InlineData("/var/lib/**", "/var/lib/x", true)]
    [InlineData("/var/lib/**", "/var/lib", false)]
    [InlineData("/var/lib/**", "/var/library", false)]
    [InlineData("/a/**/b", "/a/b", true)]
    [InlineData("/a/**/b", "/a/x/b", true)]
    [InlineData("/a/**/b", "/a/x/y/z/b", true)]
    [InlineData("/a/**/b", "/a/xb", false)]
    [InlineData("/a/**/b", "/a/x/b/c", false)]
    [InlineData("**/cache", "/cache", true)]
    [InlineData("**/cache", "/var/cache", true)]
    [InlineData("**/cache", "/var/mycache", false)]
    [InlineData("**/*.pyc", "/usr/lib/python3/x/__pycache__/m.pyc", true)]
    [InlineData("/usr/**.so", "/usr/lib/x86_64/libc.so", true)]
    [InlineData("/usr/***/x", "/usr/a/b/x", true)]
    // Inner '/' without a leading one: the trailing segments.
    [InlineData("cache/*.tmp", "/var/cache/a.tmp", true)]
    [InlineData("cache/*.tmp", "/cache/a.tmp", true)]
    [InlineData("cache/*.tmp", "/var/mycache/a.tmp", false)]
    [InlineData("cache/*.tmp", "/var/cache/sub/a.tmp", false)]
    [InlineData("cache/data", "/srv/cache/data", true)]
    [InlineData("cache/data", "/srv/xcache/data", false)]
    [InlineData("cache/data", "/srv/cache/data/more", false)]
    [InlineData(".git/**", "/srv/repo/.git/objects/ab", true)]
    // Regex metacharacters are literal.
    [InlineData("/opt/c++/lib", "/opt/c++/lib", true)]
    [InlineData("/opt/c++/*", "/opt/cc/lib", false)]
    [InlineData("/opt/c++/*", "/opt/c++/lib", true)]
    [InlineData("a.b", "/x/a.b", true)]
    [InlineData("a.b*", "/x/aXb", false)]
    [InlineData("$HOME(1)*", "/x/$HOME(1).txt", true)]
    [InlineData("^x|y{2}*", "/x/^x|y{2}z", true)]
    [InlineData("^x|y{2}*", "/x/x", false)]
    [InlineData("#a b*", "/x/#a b.c", true)]
    [InlineData("[ab]]*", "/x/a]z", true)]
    // Classes.
    [InlineData("file[0-9].txt", "/d/file7.txt", true)]
    [InlineData("file[0-9].txt", "/d/fileA.txt", false)]
    [InlineData("file[!0-9].txt", "/d/fileA.txt", true)]
    [InlineData("file[!0-9].txt", "/d/file7.txt", false)]
    [InlineData("file[^0-9].txt", "/d/fileA.txt", true)]
    [InlineData("/d/a[!x]b", "/d/a/b", false)]
    [InlineData("/d/a[.-0]b", "/d/a/b", false)]
    [InlineData("/d/a[.-0]b", "/d/a.b", true)]
    [InlineData("[]]", "/d/]", true)]
    [InlineData("[a-]", "/d/-", true)]
    [InlineData("[\\]x", "/d/\\x", true)]
    [InlineData("[$^]", "/d/^", true)]
    // Backslash escapes.
    [InlineData("\\*.txt", "/d/*.txt", true)]
    [InlineData("\\*.txt", "/d/a.txt", false)]
    [InlineData("a\\?", "/d/a?", true)]
    [InlineData("a\\?", "/d/ab", false)]
    // Non-ASCII text.
    [InlineData("*.résumé", "/home/x/cv.résumé", true)]
    [InlineData("/srv/données/*", "/srv/données/a", true)]
    public void Matches_paths(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, PathGlob.Compile(pattern).IsMatch(Encoding.UTF8.GetBytes(path)));
    }

    [Theory]
    [InlineData("*.conf", "/etc/bad\\xff\\xfe.conf", true)]
    [InlineData("/etc/*", "/etc/bad\\xff\\xfe.conf", true)]
    [InlineData("/etc/**", "/etc/\\xff/x", true)]
    [InlineData("bad*", "/etc/bad\\xff\\xfe.conf", true)]
    [InlineData("*bad", "/etc/bad\\xff\\xfe.conf", false)]
    [InlineData("/etc/??.conf", "/etc/\\xff\\xfe.conf", true)]
    [InlineData("/etc/?.conf", "/etc/\\xff\\xfe.conf", false)]
    [InlineData("lost+found", "/srv/\\xff/lost+found", true)]
    [InlineData("/srv/*/lost+found", "/srv/\\xff/lost+found", true)]
    public void Matches_paths_that_are_not_UTF8_by_their_ASCII_parts(string pattern, string escapedPath, bool expected)
    {
        Assert.Equal(expected, PathGlob.Compile(pattern).IsMatch(RawPath(escapedPath)));
    }

    [Fact]
    public void Matches_long_paths_beyond_the_stack_buffer()
    {
        var longPath = "/data/" + string.Join('/', Enumerable.Repeat("segment", 200)) + "/x.log";
        Assert.True(PathGlob.Compile("*.log").IsMatch(Encoding.UTF8.GetBytes(longPath)));
        Assert.True(PathGlob.Compile("/data/**/x.log").IsMatch(Encoding.UTF8.GetBytes(longPath)));
        Assert.False(PathGlob.Compile("/data/*/x.log").IsMatch(Encoding.UTF8.GetBytes(longPath)));
    }

    [Fact]
    public async Task Finishes_on_patterns_that_would_backtrack_badly()
    {
        var glob = PathGlob.Compile("*a*a*a*a*a*a*a*a*a*b");
        var name = Encoding.UTF8.GetBytes("/x/" + new string('a', 250));
        // A backtracking matcher tries about 250^9/9! splits here (centuries); a linear one is done at once.
        Assert.False(await Eventually.WithinAsync(Task.Run(() => glob.IsMatch(name)), "the match to finish"));
    }

    [Theory]
    [InlineData("", "empty glob")]
    [InlineData("file[0-9", "unclosed '['")]
    [InlineData("[]", "unclosed '['")]
    [InlineData("[!]", "unclosed '['")]
    [InlineData("[z-a]", "reversed")]
    [InlineData("a\0b", "NUL")]
    public void Rejects_malformed_patterns(string pattern, string reason)
    {
        var error = Assert.Throws<FormatException>(() => PathGlob.Compile(pattern));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Keeps_the_pattern_as_written()
    {
        Assert.Equal("/var/cache/", PathGlob.Compile("/var/cache/").Pattern);
        Assert.Equal("*.log", PathGlob.Compile("*.log").ToString());
    }

    /// <summary>A byte path from text where "\xNN" stands for one raw byte.</summary>
    private static byte[] RawPath(string escaped)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < escaped.Length; i++)
        {
            if (escaped[i] == '\\' && i + 3 < escaped.Length && escaped[i + 1] == 'x')
            {
                bytes.Add(Convert.ToByte(escaped.Substring(i + 2, 2), 16));
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(escaped[i].ToString()));
            }
        }
        return [.. bytes];
    }
}
