using Fim.Contracts;
using Fim.Contracts.Text;

namespace Fim.Agent.Output;

/// <summary>
/// Readable alerts for a terminal: level, kind, path, and each changed attribute as before -> after. Every text that
/// comes from the file system or a rule file is escaped (<see cref="TerminalText"/>): a file name cannot drive the terminal.
/// </summary>
public sealed class HumanOutput(TextWriter stdout, bool color) : IAlertOutput
{
    private readonly Lock _lock = new();

    public void Write(FileEvent e, Alert? alert)
    {
        var level = alert?.Level ?? 0;
        var head = $"{e.ObservedAt.ToLocalTime():HH:mm:ss} {Paint($"[{level,2}]", LevelColor(level))} {e.Kind,-12} {TerminalText.Escape(e.Path)}";
        var lines = new List<string> { head };
        if (e.Actor is { } actor)
        {
            lines.Add(TerminalText.Escape("      " + ActorText.Describe(actor)));
        }
        if (alert is not null)
        {
            lines.Add(TerminalText.Escape($"      rule {alert.Rule.Id}: {alert.Rule.Description}{(alert.Compliance.Count > 0 ? $"  [{string.Join(", ", alert.Compliance.Take(3))}]" : "")}"));
        }
        foreach (var name in e.Changed)
        {
            lines.Add(TerminalText.Escape($"      {name}: {Value(e.Before, name)} -> {Value(e.After, name)}"));
        }
        lock (_lock)
        {
            foreach (var line in lines)
            {
                stdout.WriteLine(line);
            }
            stdout.Flush();
        }
    }

    public void Notice(string message)
    {
        lock (_lock)
        {
            stdout.WriteLine(Paint(TerminalText.Escape(message), "2"));
            stdout.Flush();
        }
    }

    private static string Value(FileState? s, string attribute) => s is null ? "-" : attribute switch
    {
        "type" => s.Type,
        "size" => s.Size.ToString("N0"),
        "mode" => s.Mode,
        "uid" => s.Uid.ToString(),
        "gid" => s.Gid.ToString(),
        "owner" => s.Owner ?? "?",
        "group" => s.Group ?? "?",
        "mtime" => s.Mtime.ToString("yyyy-MM-dd HH:mm:ss.fff"),
        "ctime" => s.Ctime.ToString("yyyy-MM-dd HH:mm:ss.fff"),
        "inode" => s.Inode.ToString(),
        "nlink" => s.Nlink.ToString(),
        "device" => s.Device.ToString(),
        "target" => s.Target ?? "-",
        "sha256" => Short(s.Sha256),
        "sha512" => Short(s.Sha512),
        "sha1" => Short(s.Sha1),
        "md5" => Short(s.Md5),
        "xxh128" => Short(s.Xxh128),
        "hash-status" => s.HashStatus ?? "hashed",
        _ => "?",
    };

    private static string Short(string? hash) => hash is null ? "-" : hash[..Math.Min(16, hash.Length)] + "…";

    private static string LevelColor(int level) => level >= 10 ? "1;31" : level >= 7 ? "31" : level >= 5 ? "33" : "36";

    private string Paint(string text, string code) => color ? $"\u001b[{code}m{text}\u001b[0m" : text;
}
