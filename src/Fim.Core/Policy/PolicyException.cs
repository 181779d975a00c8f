using System.Text;

namespace Fim.Core.Policy;

/// <summary>
/// One thing wrong with a policy. <see cref="Message"/> is complete on its own and names the field;
/// <see cref="Line"/> and <see cref="Column"/> are set when the policy came from a file.
/// </summary>
public sealed record PolicyProblem(string? FieldPath, string Message, int? Line = null, int? Column = null)
{
    /// <summary>"source:line:col: message", leaving out the parts that are unknown.</summary>
    public string Format(string? sourceName)
    {
        var location = new StringBuilder(sourceName);
        if (Line is { } line)
        {
            location.Append(location.Length > 0 ? ":" : "line ").Append(line);
            if (Column is { } column)
            {
                location.Append(':').Append(column);
            }
        }
        return location.Length == 0 ? Message : $"{location}: {Message}";
    }
}

/// <summary>A policy that cannot be read or is not valid. Lists every problem found, not only the first.</summary>
public sealed class PolicyException : Exception
{
    public PolicyException(string? sourceName, PolicyProblem problem, Exception? innerException = null)
        : this(sourceName, [problem], innerException)
    {
    }

    public PolicyException(string? sourceName, IReadOnlyList<PolicyProblem> problems, Exception? innerException = null)
        : base(Describe(sourceName, problems), innerException)
    {
        if (problems.Count == 0)
        {
            throw new ArgumentException("a policy exception needs at least one problem", nameof(problems));
        }
        SourceName = sourceName;
        Problems = problems;
    }

    /// <summary>The file name (or "command line", or whatever the caller named the text); null when unknown.</summary>
    public string? SourceName { get; }

    public IReadOnlyList<PolicyProblem> Problems { get; }

    /// <summary>Line of the first problem.</summary>
    public int? Line => Problems[0].Line;

    /// <summary>Column of the first problem.</summary>
    public int? Column => Problems[0].Column;

    /// <summary>Field of the first problem, e.g. "paths[0].recursive"; null for problems with the file as a whole.</summary>
    public string? FieldPath => Problems[0].FieldPath;

    private static string Describe(string? sourceName, IReadOnlyList<PolicyProblem> problems)
    {
        if (problems.Count == 1)
        {
            return problems[0].Format(sourceName);
        }
        var text = new StringBuilder();
        text.Append(sourceName ?? "policy").Append(": ").Append(problems.Count).Append(" problems:");
        foreach (var problem in problems)
        {
            text.Append('\n').Append("  ").Append(problem.Format(sourceName));
        }
        return text.ToString();
    }
}
