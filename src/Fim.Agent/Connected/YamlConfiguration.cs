using Fim.Core.Policy;
using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Fim.Agent.Connected;

/// <summary>
/// Reads a YAML file into configuration keys ("nats:tls:caFile", "labels:zone"; list items by index).
/// Microsoft.Extensions.Configuration has no YAML provider on this mirror; the config file is small, so a plain
/// YamlDotNet walk is enough.
/// </summary>
public sealed class YamlConfigurationSource(string path) : IConfigurationSource
{
    public string Path { get; } = path;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new YamlConfigurationProvider(Path);
}

/// <summary>
/// Loads the file once, at build time; a syntax error names the file, line and column. The file is first read as
/// strictly as a policy (<see cref="StrictYaml"/> into <see cref="AgentOptions"/>): a mistyped key ("passwrd",
/// "outboxMaxEvent") or a duplicated one is refused with file, line and key instead of being silently ignored.
/// </summary>
public sealed class YamlConfigurationProvider(string path) : ConfigurationProvider
{
    public override void Load()
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot read the config file {path}: {e.Message}", e);
        }
        try
        {
            StrictYaml.Read(text, path, AgentJson.Default.AgentOptions);
        }
        catch (PolicyException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{path}:{e.Start.Line}:{e.Start.Column}: {e.Message}", e);
        }
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (stream.Documents.Count > 0)
        {
            if (stream.Documents[0].RootNode is not YamlMappingNode root)
            {
                if (stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
                {
                    Data = data;
                    return;
                }
                throw new InvalidDataException($"{path}: the top level must be a mapping of keys (nats, agentId, labels...)");
            }
            Flatten(root, null, data);
        }
        Data = data;
    }

    private void Flatten(YamlNode node, string? prefix, Dictionary<string, string?> data)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (k, v) in map.Children)
                {
                    if (k is not YamlScalarNode { Value: { Length: > 0 } name })
                    {
                        throw new InvalidDataException($"{path}:{k.Start.Line}:{k.Start.Column}: keys must be plain names");
                    }
                    Flatten(v, prefix is null ? name : ConfigurationPath.Combine(prefix, name), data);
                }
                break;
            case YamlSequenceNode seq:
                for (var i = 0; i < seq.Children.Count; i++)
                {
                    Flatten(seq.Children[i], ConfigurationPath.Combine(prefix ?? "", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), data);
                }
                break;
            case YamlScalarNode scalar:
                // "~" and an empty plain value are null, as in YAML; a quoted "" stays an empty string.
                var isNull = scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && (scalar.Value is null or "" or "~" or "null");
                data[prefix ?? ""] = isNull ? null : scalar.Value;
                break;
        }
    }
}
