using System.Globalization;
using System.Text;

namespace Fim.Agent.Packages;

/// <summary>
/// The tail of dpkg's log (/var/log/dpkg.log): "YYYY-MM-DD HH:MM:SS install|upgrade|remove|purge pkg[:arch] old new".
/// Only the last <see cref="TailBytes"/> are read, and only again when the file grew or was replaced.
/// </summary>
public sealed class DpkgLog(string path, TimeZoneInfo zone)
{
    public const int TailBytes = 1 << 20;

    private readonly Dictionary<string, PackageTransaction> _last = new(StringComparer.Ordinal);
    private FileStamp _seen;

    public string Path { get; } = path;

    /// <summary>Re-reads the tail when the file changed; true when it did.</summary>
    public bool Refresh()
    {
        var stamp = FileStamp.Of(Path);
        if (stamp == _seen)
        {
            return false;
        }
        _seen = stamp;
        _last.Clear();
        try
        {
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var start = Math.Max(0, stream.Length - TailBytes);
            stream.Position = start;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            if (start > 0)
            {
                reader.ReadLine();
            }
            while (reader.ReadLine() is { } line)
            {
                if (Parse(line, zone) is { } t)
                {
                    _last[t.Package] = t;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return true;
    }

    public PackageTransaction? Last(string package, DateTimeOffset since) =>
        _last.TryGetValue(package, out var t) && t.At >= since ? t : null;

    /// <summary>A transaction line, or null for any other line (status, configure, startup, conffile...).</summary>
    public static PackageTransaction? Parse(string line, TimeZoneInfo zone)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 6 || parts[2] is not ("install" or "upgrade" or "remove" or "purge"))
        {
            return null;
        }
        if (!DateTime.TryParseExact(parts[0] + " " + parts[1], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            return null;
        }
        var at = new DateTimeOffset(local, zone.GetUtcOffset(local));
        var name = parts[3];
        var colon = name.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0)
        {
            name = name[..colon];
        }
        return new PackageTransaction(name, Version(parts[4]), Version(parts[5]), at);
    }

    private static string? Version(string v) => v is "<none>" or "<unknown>" ? null : v;
}
