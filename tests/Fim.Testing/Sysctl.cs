using System.Diagnostics;
using System.Globalization;

namespace Fim.Testing;

/// <summary>
/// Sets a /proc/sys value for the duration of a test and puts the old value back on dispose. The value is host-wide and
/// test assemblies run in parallel processes, so each setting is held under an exclusive lock file for as long as it is
/// changed: another suite's restore cannot land between this one's set and its use, nor can it read (and later "restore")
/// this one's temporary value.
/// </summary>
public sealed class Sysctl : IDisposable
{
    private static readonly TimeSpan LockWait = TimeSpan.FromMinutes(5);
    private readonly string _path;
    private readonly string _original;
    private readonly FileStream _lock;
    private bool _restored;

    private Sysctl(string name, string value)
    {
        _path = "/proc/sys/" + name;
        _lock = Acquire(name);
        try
        {
            // The lock file holds the value to put back while a change is held: left there, its holder was killed
            // before restoring (a cancelled test run), so that value is the host's own, not what /proc says now.
            var left = ReadLock();
            if (left.Length > 0)
            {
                File.WriteAllText(_path, left);
            }
            _original = File.ReadAllText(_path).Trim();
            WriteLock(_original);
            File.WriteAllText(_path, value);
        }
        catch
        {
            _lock.Dispose();
            throw;
        }
    }

    public static Sysctl Set(string name, long value) => new(name, value.ToString(CultureInfo.InvariantCulture));

    public static long Read(string name) => long.Parse(File.ReadAllText("/proc/sys/" + name).Trim(), CultureInfo.InvariantCulture);

    private static FileStream Acquire(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "fim-test-sysctl");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, name.Replace('/', '.') + ".lock");
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive advisory lock on Unix, dropped by the kernel if this process dies.
                return new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < LockWait)
            {
                Thread.Sleep(50);
            }
        }
    }

    private string ReadLock()
    {
        _lock.Position = 0;
        using var reader = new StreamReader(_lock, leaveOpen: true);
        return reader.ReadToEnd().Trim();
    }

    private void WriteLock(string text)
    {
        _lock.SetLength(0);
        _lock.Write(System.Text.Encoding.ASCII.GetBytes(text));
        _lock.Flush(flushToDisk: true);
    }

    public void Dispose()
    {
        if (!_restored)
        {
            File.WriteAllText(_path, _original);
            WriteLock("");
            _restored = true;
        }
        _lock.Dispose();
    }
}
