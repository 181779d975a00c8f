using System.Text.Json.Serialization.Metadata;

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
    /// <param name="model">
    /// <typeparamref name="T"/>'s metadata from the caller's source-generated JSON context (camelCase naming), e.g.
    /// <c>AgentJson.Default.AgentOptions</c>: it names the keys and sets the properties without reflection, so the
    /// reader works in a trimmed native AOT build.
    /// </param>
    public static T Read<T>(string yaml, string sourceName, JsonTypeInfo<T> model)
        where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(sourceName);
        ArgumentNullException.ThrowIfNull(model);
        return YamlDocumentReader.Read(yaml, sourceName) switch
        {
            null or DocScalar { IsNull: true } => new T(),
            DocMapping mapping => PolicyBinder.Bind(mapping, new PolicySourceMap(sourceName), model),
            var other => throw new PolicyException(sourceName, new PolicyProblem(
                null,
                $"the top level must be a mapping of keys ({string.Join(", ", BindableProperties.Of(model).Keys)}), got {(other is DocSequence ? "a list" : "a single value")}",
                other.Line,
                other.Column)),
        };
    }
}
