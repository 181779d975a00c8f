using Fim.Core.Native;
using Fim.Core.Policy;

namespace Fim.Core.Scanning;

/// <summary>One unit of walk work: a directory to list, or a large file hashed on its own so one file does not hold up a worker's directory.</summary>
internal readonly record struct WorkItem(byte[] Path, int Depth, CompiledPathRule? Rule, ulong RootDevice, bool IsDirectory, FileStat Stat)
{
    public static WorkItem Directory(byte[] path, int depth, CompiledPathRule rule, ulong rootDevice) =>
        new(path, depth, rule, rootDevice, true, default);

    public static WorkItem LargeFile(byte[] path, CompiledPathRule rule, FileStat stat) =>
        new(path, 0, rule, 0, false, stat);
}
