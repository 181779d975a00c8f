namespace Fim.Deploy.Tests;

/// <summary>
/// A fact that needs the third-party CRD schemas (../shared/k8s-schemas from the repository root): skipped, with a
/// message saying so, where they are absent (their README asks for that).
/// </summary>
public sealed class NeedsSharedSchemasFactAttribute : FactAttribute
{
    public NeedsSharedSchemasFactAttribute()
    {
        if (!Directory.Exists(Repo.SharedSchemas))
        {
            Skip = $"third-party CRD schemas not found at {Repo.SharedSchemas} (../shared/k8s-schemas from the repository root)";
        }
    }
}

/// <summary>The theory form of <see cref="NeedsSharedSchemasFactAttribute"/>.</summary>
public sealed class NeedsSharedSchemasTheoryAttribute : TheoryAttribute
{
    public NeedsSharedSchemasTheoryAttribute()
    {
        if (!Directory.Exists(Repo.SharedSchemas))
        {
            Skip = $"third-party CRD schemas not found at {Repo.SharedSchemas} (../shared/k8s-schemas from the repository root)";
        }
    }
}
