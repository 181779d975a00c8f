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

    public void ThrowIfAny(string? sourceName)
    {
        if (_problems.Count > 0)
        {
            throw new PolicyException(sourceName, _problems.ToArray());
        }
    }
}
