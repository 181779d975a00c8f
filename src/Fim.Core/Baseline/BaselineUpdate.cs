using Fim.Core.Model;

namespace Fim.Core.Baseline;

/// <summary>One change to the baseline: a new or replaced record, or (Record null) a deletion.</summary>
public readonly record struct BaselineUpdate(byte[] Path, FileRecord? Record);
