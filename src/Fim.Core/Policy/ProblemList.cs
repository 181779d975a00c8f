namespace Fim.Core.Policy;

/// <summary>Collects validation problems, each located by field path and, for a loaded file, by line.</summary>
internal sealed class ProblemList(PolicySourceMap? positions)
{
    private readonly List<PolicyProblem> _problems = [];

    public int Count => _problems.Count;

    public void Add(string fieldPath, string detail)
    {
        var at = positions?.Find(fieldPath);
        _problems.Add(new PolicyProblem(fieldPath, $"{fieldPath}: {detail}", at?.Line, at?.Column));
    }

    public void AddRange(IEnumerable<PolicyProblem> problems) => _problems.AddRange(problems);

    /// <summary>Throws every problem collected; <paramref name="byLine"/> lists them in file order.</summary>
    public void ThrowIfAny(string? sourceName, bool byLine = false)
    {
        if (_problems.Count > 0)
        {
            throw new PolicyException(sourceName, byLine ? [.. _problems.OrderBy(p => p.Line ?? int.MaxValue)] : _problems.ToArray());
        }
    }
}
