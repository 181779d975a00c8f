using Fim.Core.Model;

namespace Fim.Core.Baseline;

/// <summary>One change to the baseline: <paramref name="Record"/> is the new state of <paramref name="Path"/>, or null when the path is gone.</summary>
public readonly record struct BaselineUpdate(byte[] Path, FileRecord? Record)
{
    public static BaselineUpdate Upsert(FileRecord record) => new(record.Path, record);

    public static BaselineUpdate Delete(byte[] path) => new(path, null);
}
