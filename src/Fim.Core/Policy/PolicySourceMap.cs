using System.Runtime.CompilerServices;

namespace Fim.Core.Policy;

/// <summary>
/// Where each field of a loaded policy was written, so the compiler's problems can point at a line.
/// Attached to the <see cref="PolicySpec"/> the loader returns rather than added to PolicySpec itself,
/// which doubles as the CRD schema and must not grow a bookkeeping property.
/// </summary>
internal sealed class PolicySourceMap(string sourceName)
{
    private static readonly ConditionalWeakTable<PolicySpec, PolicySourceMap> Attached = new();

    private readonly Dictionary<string, (int Line, int Column)> _positions = new(StringComparer.Ordinal);

    public string SourceName { get; } = sourceName;

    public static void Attach(PolicySpec spec, PolicySourceMap map) => Attached.AddOrUpdate(spec, map);

    public static PolicySourceMap? Of(PolicySpec spec) => Attached.TryGetValue(spec, out var map) ? map : null;

    public void Record(string fieldPath, DocNode node) => _positions.TryAdd(fieldPath, (node.Line, node.Column));

    /// <summary>Position of the field, or of its nearest written ancestor (a field left at its default has none).</summary>
    public (int Line, int Column)? Find(string fieldPath)
    {
        var path = fieldPath;
        while (true)
        {
            if (_positions.TryGetValue(path, out var position))
            {
                return position;
            }
            if (path.Length == 0)
            {
                return null;
            }
            path = FieldPaths.Parent(path);
        }
    }
}
