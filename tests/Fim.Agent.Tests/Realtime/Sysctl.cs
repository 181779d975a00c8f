namespace Fim.Agent.Tests.Realtime;

/// <summary>Sets a /proc/sys value for the duration of a test and puts the old value back on dispose.</summary>
internal sealed class Sysctl : IDisposable
{
    private readonly string _path;
    private readonly string _original;
    private bool _restored;

    private Sysctl(string path, string value)
    {
        _path = path;
        _original = File.ReadAllText(path).Trim();
        File.WriteAllText(path, value);
    }

    public static Sysctl Set(string name, long value) => new("/proc/sys/" + name, value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static long Read(string name) => long.Parse(File.ReadAllText("/proc/sys/" + name).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose()
    {
        if (!_restored)
        {
            File.WriteAllText(_path, _original);
            _restored = true;
        }
    }
}
