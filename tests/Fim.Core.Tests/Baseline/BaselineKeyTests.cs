using Fim.Core.Baseline;

namespace Fim.Core.Tests.Baseline;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class BaselineKeyTests
{
    [Fact]
    public void CreatesAnOwnerOnlyKeyOnceAndLoadsItAfterwards()
    {
        using var dir = new TempDir();
        var created = BaselineKey.LoadOrCreate(dir.KeyFile);

        Assert.Equal(BaselineKey.KeySize, new FileInfo(dir.KeyFile).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.KeyFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(dir.KeyFile)!));
        Assert.Matches("^[0-9a-f]{16}$", created.KeyId);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(dir.KeyFile)!));

        Assert.Equal(created.KeyId, BaselineKey.LoadOrCreate(dir.KeyFile).KeyId);
        Assert.Equal(created.KeyId, BaselineKey.Load(dir.KeyFile).KeyId);
    }

    [Fact]
    public void DifferentKeysHaveDifferentIds()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        Assert.NotEqual(BaselineKey.LoadOrCreate(a.KeyFile).KeyId, BaselineKey.LoadOrCreate(b.KeyFile).KeyId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void RefusesAKeyFileOfTheWrongSize(int size)
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.GetDirectoryName(dir.KeyFile)!);
        File.WriteAllBytes(dir.KeyFile, new byte[size]);
        File.SetUnixFileMode(dir.KeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var e = Assert.Throws<BaselineKeyException>(() => BaselineKey.LoadOrCreate(dir.KeyFile));
        Assert.Contains(size > BaselineKey.KeySize ? "holds more than 32 bytes" : $"holds {size} bytes", e.Message);
        Assert.Contains(dir.KeyFile, e.Message);
        Assert.Equal(size, new FileInfo(dir.KeyFile).Length); // never overwritten
    }

    [Theory]
    [InlineData(0b110_100_100)] // 0644, the hostile test's case
    [InlineData(0b110_000_100)] // 0604
    [InlineData(0b110_110_000)] // 0660
    public void RefusesAKeyFileGroupOrOthersCanAccess(int mode)
    {
        using var dir = new TempDir();
        BaselineKey.LoadOrCreate(dir.KeyFile);
        File.SetUnixFileMode(dir.KeyFile, (UnixFileMode)mode);
        var e = Assert.Throws<BaselineKeyException>(() => BaselineKey.Load(dir.KeyFile));
        Assert.Contains(Convert.ToString(mode, 8).PadLeft(4, '0'), e.Message);
        Assert.Contains($"chmod 600 {dir.KeyFile}", e.Message);
    }

    [Fact]
    public void AcceptsAReadOnlyKeyFile()
    {
        using var dir = new TempDir();
        var created = BaselineKey.LoadOrCreate(dir.KeyFile);
        File.SetUnixFileMode(dir.KeyFile, UnixFileMode.UserRead);
        Assert.Equal(created.KeyId, BaselineKey.Load(dir.KeyFile).KeyId);
    }

    [Fact]
    public void FollowsASymlinkToAnOwnerOnlyKeyAsAKubernetesSecretVolumeHasThem()
    {
        using var dir = new TempDir();
        var created = BaselineKey.LoadOrCreate(dir.KeyFile);
        var link = dir.KeyFile + ".link";
        File.CreateSymbolicLink(link, dir.KeyFile);
        Assert.Equal(created.KeyId, BaselineKey.Load(link).KeyId);
    }

    [Fact]
    public void RefusesASymlinkToAFileOthersCanRead()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.GetDirectoryName(dir.KeyFile)!);
        var target = dir.KeyFile + ".target";
        File.WriteAllBytes(target, new byte[BaselineKey.KeySize]);
        File.SetUnixFileMode(target, (UnixFileMode)0b110_100_100);
        File.CreateSymbolicLink(dir.KeyFile, target);
        var e = Assert.Throws<BaselineKeyException>(() => BaselineKey.Load(dir.KeyFile));
        Assert.Contains("chmod 600", e.Message);
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/null")]
    public void RefusesADeviceWithoutReadingIt(string device)
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.GetDirectoryName(dir.KeyFile)!);
        File.CreateSymbolicLink(dir.KeyFile, device);
        var e = Assert.Throws<BaselineKeyException>(() => BaselineKey.LoadOrCreate(dir.KeyFile));
        Assert.Contains("not a regular file", e.Message);
    }

    [Fact]
    public void RefusesADirectory()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.KeyFile);
        var e = Assert.Throws<BaselineKeyException>(() => BaselineKey.LoadOrCreate(dir.KeyFile));
        Assert.Contains("is a directory, not a regular file", e.Message);
    }

    [Fact]
    public void RefusesAKeyFileOwnedByAnotherUser()
    {
        if (Environment.UserName != "root")
        {
            return; // only root can give a file away; the suite runs as root
        }
        using var dir = new TempDir();
        BaselineKey.LoadOrCreate(dir.KeyFile);
        File.SetUnixFileMode(dir.KeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(0, chown(dir.KeyFile, 65534, 65534));
        var e = Assert.Throws<BaselineKeyException>(() => BaselineKey.Load(dir.KeyFile));
        Assert.Contains("owned by uid 65534", e.Message);
        Assert.Contains("chown 0", e.Message);
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int chown(string path, uint owner, uint group);

    [Fact]
    public void LoadRefusesAMissingKeyFile()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<BaselineKeyException>(() => BaselineKey.Load(dir.KeyFile));
        Assert.Contains(dir.KeyFile, e.Message);
    }
}
