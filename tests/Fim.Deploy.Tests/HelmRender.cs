using Fim.Testing;
using YamlDotNet.RepresentationModel;

namespace Fim.Deploy.Tests;

/// <summary>`helm template` of charts/fim and the rendered documents.</summary>
public static class HelmRender
{
    public const string Namespace = "fim";

    public static ProcessResult Template(params string[] sets)
    {
        var args = new List<string> { "template", "rel", Repo.Chart, "--namespace", Namespace };
        foreach (var s in sets)
        {
            args.Add("--set");
            args.Add(s);
        }
        return KubeTools.Helm(args);
    }

    public static List<string> Render(params string[] sets)
    {
        var r = Template(sets);
        Assert.True(r.ExitCode == 0, $"helm template {string.Join(' ', sets)} failed: {r.Stderr}");
        return SplitDocuments(r.Stdout);
    }

    /// <summary>The bundled NATS server's files (nats.conf, auth.conf) as the chart renders them with <paramref name="sets"/>.</summary>
    public static IDictionary<string, string> BundledNatsConfig(params string[] sets)
    {
        var docs = Render(["nats.mode=bundled", .. sets]);
        var configMap = (k8s.Models.V1ConfigMap)StrictValidation.ParseTyped(docs.Single(d => Id(d).Name.EndsWith("nats-config", StringComparison.Ordinal)));
        return configMap.Data;
    }

    /// <summary>Non-empty YAML documents of a multi-document stream, each as its own text.</summary>
    public static List<string> SplitDocuments(string yaml)
    {
        var docs = new List<string>();
        var current = new System.Text.StringBuilder();
        foreach (var line in yaml.Split('\n'))
        {
            if (line.TrimEnd() == "---")
            {
                Flush();
                continue;
            }
            current.Append(line).Append('\n');
        }
        Flush();
        return docs;

        void Flush()
        {
            var text = current.ToString();
            current.Clear();
            if (text.Split('\n').Any(l => l.Length > 0 && !l.TrimStart().StartsWith('#')))
            {
                docs.Add(text);
            }
        }
    }

    public static YamlMappingNode Parse(string doc)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(doc));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    public static string Str(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode s ? s.Value ?? "" : "";

    public static (string ApiVersion, string Kind, string Name) Id(string doc)
    {
        var root = Parse(doc);
        var meta = (YamlMappingNode)root.Children[new YamlScalarNode("metadata")];
        return (Str(root, "apiVersion"), Str(root, "kind"), Str(meta, "name"));
    }
}
