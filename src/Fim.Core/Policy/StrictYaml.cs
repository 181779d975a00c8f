namespace Fim.Core.Policy;

/// <summary>
/// Reads a YAML (or JSON) document into <typeparamref name="T"/> as strictly as a policy file is read, for other
/// files the agent is configured with: keys are the camelCase property names, an unknown or duplicated key or a value
/// of the wrong type is refused, and every problem is listed with file, line, column and key (and a "did you mean")
/// in one <see cref="PolicyException"/>.
/// </summary>
public static class StrictYaml
{
    /// <summary>An empty document (or only comments) gives a default <typeparamref name="T"/>.</summary>
    public static T Read<T>(string yaml, string sourceName)
        where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(sourceName);
        return YamlDocumentReader.Read(yaml, sourceName) switch
        {
            null or DocScalar { IsNull: true } => new T(),
            DocMapping mapping => PolicyBinder.Bind<T>(mapping, new PolicySourceMap(sourceName)),
            var other => throw new PolicyException(sourceName, new PolicyProblem(
                null,
                $"the top level must be a mapping of keys ({string.Join(", ", BindableProperties.Of(typeof(T)).Keys)}), got {(other is DocSequence ? "a list" : "a single value")}",
                other.Line,
                other.Column)),
        };
    }
}
