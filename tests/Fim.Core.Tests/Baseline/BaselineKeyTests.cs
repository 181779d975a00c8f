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
        Assert.Null(created.PermissionWarning);
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
        var e = Assert.Throws<BaselineKeyException>(() => BaselineKey.LoadOrCreate(dir.KeyFile));
        Assert.Contains($"holds {size} bytes", e.Message);
        Assert.Contains(dir.KeyFile, e.Message);
        Assert.Equal(size, new FileInfo(dir.KeyFile).Length); // never overwritten
    }

    [Fact]
    public void WarnsAboutAKeyFileOthersCanRead()
    {
        using var dir = new TempDir();
        BaselineKey.LoadOrCreate(dir.KeyFile);
        File.SetUnixFileMode(dir.KeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var key = BaselineKey.Load(dir.KeyFile);
        Assert.NotNull(key.PermissionWarning);
        Assert.Contains("0604", key.PermissionWarning);
        Assert.Contains("chmod 600", key.PermissionWarning);
    }

    [Fact]
    public void LoadRefusesAMissingKeyFile()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<BaselineKeyException>(() => BaselineKey.Load(dir.KeyFile));
        Assert.Contains(dir.KeyFile, e.Message);
    }
}
