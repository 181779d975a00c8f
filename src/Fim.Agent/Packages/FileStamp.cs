using Fim.Core.Model;
using Fim.Core.Native;

namespace Fim.Agent.Packages;

/// <summary>Identity and version of a file as stat sees it: a rewrite, an append or a rename-over changes it.</summary>
public readonly record struct FileStamp(ulong Inode, long Size, long MtimeNs, long CtimeNs)
{
    public static FileStamp Of(string path) =>
        Posix.StatPath(PathBytes.FromString(path), followSymlinks: true, out var st) == 0
            ? new FileStamp(st.Inode, st.Size, st.MtimeNs, st.CtimeNs)
            : default;
}
