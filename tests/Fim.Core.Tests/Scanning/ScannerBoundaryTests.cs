using System.Runtime.InteropServices;
using System.Text;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Scanning;

namespace Fim.Core.Tests.Scanning;

public sealed class ScannerBoundaryTests : IDisposable
{
    private readonly ScanFixture _f = new();

    [Fact]
    public void One_filesystem_records_a_mount_point_but_not_what_is_mounted_there_unless_asked()
    {
        _f.Write("local.txt", "l");
        Directory.CreateDirectory(_f.P("mnt"));
        ScanFixture.Sh("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", _f.P("mnt"));
        try
        {
            File.WriteAllText(_f.P("mnt/other-fs.txt"), "o");

            _f.Scan(new ScanOptions { RecordOnly = true });
            Assert.True(_f.Baseline.TryGet(_f.B("mnt"), out _));
            Assert.False(_f.Baseline.TryGet(_f.B("mnt/other-fs.txt"), out _));

            var crossing = new ScanFixture();
            var policy = new CompiledPolicy { Name = "t", Rules = [new CompiledPathRule { Root = PathBytes.FromString(_f.Root), OneFilesystem = false }] };
            var r = new Scanner(policy, new ScanOptions { RecordOnly = true }).Scan(crossing.Baseline);
            crossing.Baseline.Apply(r.Updates);
            Assert.True(crossing.Baseline.TryGet(_f.B("mnt/other-fs.txt"), out _));
        }
        finally
        {
            ScanFixture.Sh("umount", "-l", _f.P("mnt"));
        }
    }

    [Fact]
    public void Extended_attributes_are_compared_when_the_policy_checks_them()
    {
        var path = _f.Write("labelled", "x");
        SetXattr(path, "user.fim-test", "one");
        var policy = _f.Policy(r => new CompiledPathRule { Root = r.Root, Checks = CheckAttributes.Default | CheckAttributes.Xattrs });
        _f.Scan(new ScanOptions { RecordOnly = true }, policy);
        Assert.Contains(_f.Record("labelled").Xattrs!, x => x.Key == "user.fim-test" && Encoding.UTF8.GetString(x.Value) == "one");

        SetXattr(path, "user.fim-test", "two");
        var change = Assert.Single(_f.Scan(null, policy).Changes, c => c.DisplayPath == path);

        Assert.Contains("xattrs", change.ChangedNames);
        Assert.Equal(ChangeKind.Attributes, change.Kind);
    }

    private static void SetXattr(string path, string name, string value)
    {
        var v = Encoding.UTF8.GetBytes(value);
        Assert.True(lsetxattr(path, name, v, v.Length, 0) == 0, $"lsetxattr failed: {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int lsetxattr(string path, string name, byte[] value, nint size, int flags);

    public void Dispose() => _f.Dispose();
}
