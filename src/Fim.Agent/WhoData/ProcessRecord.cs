using System.Buffers.Binary;
using System.Text;

namespace Fim.Agent.WhoData;

public enum ProcessRecordKind
{
    Exec = 1,
    Fork = 2,
    Exit = 3,
}

/// <summary>
/// One record of the kernel's process feed (struct fim_proc_event in Bpf/proctable.bpf.c; keep the two in step).
/// <see cref="Start"/> is the process's start_boottime in ns: with the pid it names one process, whatever reuses the pid later.
/// </summary>
public sealed record ProcessRecord(
    ProcessRecordKind Kind,
    int Pid,
    int Ppid,
    uint Uid,
    uint Euid,
    uint Gid,
    uint LoginUid,
    uint SessionId,
    ulong Start,
    ulong ParentStart,
    ulong CgroupId,
    string? Comm,
    string? Executable,
    byte[]? Arguments)
{
    public const int HeaderSize = 80;
    private const int CommOffset = 64;
    private const int FilenameOffset = 80;
    private const int ArgsOffset = 336;

    /// <summary>Parses a record; null when it is shorter than its kind needs (a record from another build of the program).</summary>
    public static ProcessRecord? Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderSize)
        {
            return null;
        }
        var kind = (ProcessRecordKind)BinaryPrimitives.ReadUInt32LittleEndian(data);
        string? filename = null;
        byte[]? args = null;
        if (kind == ProcessRecordKind.Exec)
        {
            var filenameLen = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(data[56..]), 255u);
            var argsLen = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(data[60..]), 512u);
            if (data.Length < ArgsOffset + argsLen)
            {
                return null;
            }
            filename = filenameLen > 0 ? Encoding.UTF8.GetString(data.Slice(FilenameOffset, filenameLen)) : null;
            args = argsLen > 0 ? data.Slice(ArgsOffset, argsLen).ToArray() : null;
        }
        return new ProcessRecord(
            kind,
            BinaryPrimitives.ReadInt32LittleEndian(data[4..]),
            BinaryPrimitives.ReadInt32LittleEndian(data[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(data[12..]),
            BinaryPrimitives.ReadUInt32LittleEndian(data[16..]),
            BinaryPrimitives.ReadUInt32LittleEndian(data[20..]),
            BinaryPrimitives.ReadUInt32LittleEndian(data[24..]),
            BinaryPrimitives.ReadUInt32LittleEndian(data[28..]),
            BinaryPrimitives.ReadUInt64LittleEndian(data[32..]),
            BinaryPrimitives.ReadUInt64LittleEndian(data[40..]),
            BinaryPrimitives.ReadUInt64LittleEndian(data[48..]),
            kind == ProcessRecordKind.Exit ? null : CString(data.Slice(CommOffset, 16)),
            filename,
            args);
    }

    private static string CString(ReadOnlySpan<byte> s)
    {
        var nul = s.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? s[..nul] : s);
    }
}
