using System.Runtime.InteropServices;
using Fim.Hostile.Tests.Support;

namespace Fim.Hostile.Tests;

/// <summary>
/// Case 10 (key file): whoever can read the HMAC key can re-seal a forged baseline, whoever owns it can replace it.
/// A key file others can access, owned by someone else, of the wrong size or not a file at all is refused with exit
/// 19, a message with the fix, and no stack trace.
/// </summary>
public sealed class KeyFileTests : IDisposable
{
    private readonly Sandbox _s = new("key");

    public KeyFileTests() => _s.Write("a.txt", "a");

    [Theory]
    [InlineData(0b110_100_100)] // 0644, as the hostile test left it
    [InlineData(0b110_110_000)] // 0660
    [InlineData(0b110_000_010)] // 0602: others may write it
    public void A_key_file_group_or_others_can_access_is_refused_with_the_chmod_fix(int mode)
    {
        Assert.Equal(0, Scan().ExitCode);
        File.SetUnixFileMode(_s.KeyFile, (UnixFileMode)mode);

        var r = Scan();

        Assert.True(r.ExitCode == 19, r.ToString());
        Assert.Contains($"chmod 600 {_s.KeyFile}", r.Stderr);
        Assert.Contains(Convert.ToString(mode, 8).PadLeft(4, '0'), r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(64)]
    public void A_key_of_the_wrong_size_is_a_clear_error_not_a_stack_trace(int size)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_s.KeyFile)!);
        File.WriteAllBytes(_s.KeyFile, new byte[size]);
        File.SetUnixFileMode(_s.KeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var r = Scan();

        Assert.True(r.ExitCode == 19, r.ToString());
        Assert.Contains(_s.KeyFile, r.Stderr);
        Assert.Contains("exactly 32 bytes", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("internal error", r.Stderr);
        Assert.Equal(size, new FileInfo(_s.KeyFile).Length); // never overwritten
    }

    [Fact]
    public void A_key_file_owned_by_another_user_is_refused()
    {
        Assert.Equal(0, Scan().ExitCode);
        Assert.Equal(0, chown(_s.KeyFile, 65534, 65534));

        var r = Scan();

        Assert.True(r.ExitCode == 19, r.ToString());
        Assert.Contains("owned by uid 65534", r.Stderr);
        Assert.Contains($"chown 0 {_s.KeyFile}", r.Stderr);
    }

    [Fact]
    public void A_symlink_to_an_owner_only_key_is_followed_as_in_a_kubernetes_secret_volume()
    {
        Assert.Equal(0, Scan().ExitCode);
        var real = Path.Combine(_s.Root, "keys", "..data-baseline.key");
        File.Move(_s.KeyFile, real);
        File.CreateSymbolicLink(_s.KeyFile, real);

        var r = Scan();

        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public void A_symlink_to_a_world_readable_file_is_refused()
    {
        Assert.Equal(0, Scan().ExitCode);
        var real = Path.Combine(_s.Root, "shared.key");
        File.Move(_s.KeyFile, real);
        File.SetUnixFileMode(real, (UnixFileMode)0b110_100_100);
        File.CreateSymbolicLink(_s.KeyFile, real);

        var r = Scan();

        Assert.True(r.ExitCode == 19, r.ToString());
        Assert.Contains("chmod 600", r.Stderr);
    }

    [Theory]
    [InlineData("/dev/zero")] // read whole, it never ends
    [InlineData("/dev/urandom")] // 32 bytes of it would be accepted as "the key" every time, a new one each run
    public void A_symlink_to_a_device_is_refused_without_reading_it(string device)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_s.KeyFile)!);
        File.CreateSymbolicLink(_s.KeyFile, device);

        var r = Scan();

        Assert.True(r.ExitCode == 19, r.ToString());
        Assert.Contains("not a regular file", r.Stderr);
    }

    [Fact]
    public void A_directory_in_place_of_the_key_is_refused()
    {
        Directory.CreateDirectory(_s.KeyFile);

        var r = Scan();

        Assert.True(r.ExitCode == 19, r.ToString());
        Assert.Contains("is a directory, not a regular file", r.Stderr);
    }

    private Fim.Testing.ProcessResult Scan() => AgentCli.Run(["scan", _s.Tree, "--json", .. _s.StateArgs]);

    [DllImport("libc", SetLastError = true)]
    private static extern int chown(string path, uint owner, uint group);

    public void Dispose() => _s.Dispose();
}
