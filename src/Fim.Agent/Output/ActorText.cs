using System.Globalization;
using System.Text;
using Fim.Contracts;

namespace Fim.Agent.Output;

/// <summary>The writer of a change as one terminal line: "by vim (pid 4242, /usr/bin/vim.basic) uid 0 root, login alice".</summary>
public static class ActorText
{
    public static string Describe(Actor actor)
    {
        if (actor.Unknown is { } reason)
        {
            return actor.Pid is { } p ? $"by unknown (pid {p}: {reason})" : $"by unknown ({reason})";
        }
        var s = new StringBuilder("by ");
        s.Append(actor.Process ?? "?");
        s.Append(" (pid ").Append(actor.Pid?.ToString(CultureInfo.InvariantCulture) ?? "?");
        if (actor.Executable is { } exe)
        {
            s.Append(", ").Append(exe);
        }
        s.Append(')');
        if (actor.Uid is { } uid)
        {
            s.Append(" uid ").Append(uid.ToString(CultureInfo.InvariantCulture));
            if (actor.User is { } user)
            {
                s.Append(' ').Append(user);
            }
        }
        if (actor.Euid is { } euid && euid != actor.Uid)
        {
            s.Append(" euid ").Append(euid.ToString(CultureInfo.InvariantCulture));
        }
        if (actor.LoginUid is { } auid)
        {
            s.Append(", login ").Append(actor.LoginUser ?? auid.ToString(CultureInfo.InvariantCulture));
        }
        if (actor.CommandLine is { } cmd)
        {
            s.Append(": ").Append(cmd);
        }
        return s.ToString();
    }
}
