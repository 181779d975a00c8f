namespace Fim.Core.Model;

/// <summary>The kind of file system object, as lstat reports it.</summary>
public enum FileType : byte
{
    Unknown = 0,
    Regular,
    Directory,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
}

public static class FileTypeNames
{
    public static string ToName(this FileType type) => type switch
    {
        FileType.Regular => "file",
        FileType.Directory => "directory",
        FileType.Symlink => "symlink",
        FileType.Fifo => "fifo",
        FileType.Socket => "socket",
        FileType.CharDevice => "char-device",
        FileType.BlockDevice => "block-device",
        _ => "unknown",
    };
}
