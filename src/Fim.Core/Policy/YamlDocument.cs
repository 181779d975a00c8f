using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Fim.Core.Policy;

/// <summary>A parsed YAML node with where it started; mappings keep every entry, duplicates included, so the binder can report them.</summary>
internal abstract class DocNode(Mark start)
{
    public int Line { get; } = (int)Math.Min(start.Line, int.MaxValue);
    public int Column { get; } = (int)Math.Min(start.Column, int.MaxValue);
}

internal sealed class DocScalar(Mark start, string value, ScalarStyle style) : DocNode(start)
{
    public string Value { get; } = value;

    /// <summary>An empty, "~" or "null" value written without quotes: YAML's null.</summary>
    public bool IsNull { get; } = style is ScalarStyle.Plain or ScalarStyle.Any && value is "" or "~" or "null" or "Null" or "NULL";
}

internal sealed class DocSequence(Mark start, IReadOnlyList<DocNode> items) : DocNode(start)
{
    public IReadOnlyList<DocNode> Items { get; } = items;
}

internal sealed class DocMapping(Mark start, IReadOnlyList<KeyValuePair<DocNode, DocNode>> entries) : DocNode(start)
{
    public IReadOnlyList<KeyValuePair<DocNode, DocNode>> Entries { get; } = entries;
}

/// <summary>
/// Reads one YAML (or JSON) document into <see cref="DocNode"/>s with YamlDotNet's parser events.
/// RepresentationModel is not used because it rejects duplicate keys with a bare "Duplicate key" and no
/// field path; here the binder sees both entries and reports them properly.
/// </summary>
internal static class YamlDocumentReader
{
    private const int MaxNesting = 64;

    /// <summary>The root node, or null for a stream without any document (empty, or only comments).</summary>
    public static DocNode? Read(string text, string sourceName)
    {
        var scanner = new Scanner(new StringReader(text), skipComments: true);
        var parser = new Parser(scanner);
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                return null;
            }
            parser.Consume<DocumentStart>();
            var root = ReadNode(parser, new Dictionary<string, DocNode>(StringComparer.Ordinal), 0);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                throw new YamlException(second.Start, second.End, "the file holds one YAML document, found a second one");
            }
            parser.Consume<StreamEnd>();
            return root;
        }
        catch (YamlException e)
        {
            var message = e.Start.Line == e.End.Line && e.Start.Column == e.End.Column
                ? e.Message
                : $"{e.Message.TrimEnd('.')} (in what begins at line {e.Start.Line}, column {e.Start.Column})";
            // YamlDotNet places a tab in the indentation at the start of the enclosing mapping, not at the tab.
            var at = e.Message.Contains("tab", StringComparison.Ordinal) && FirstTabIndentedLine(text) is { } tabLine ? tabLine : e.End;
            throw SyntaxError(sourceName, at, message, e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner throws this bare exception on some malformed input (e.g. an unclosed '[' before a new key).
            throw SyntaxError(sourceName, scanner.CurrentPosition, "malformed YAML near here (an unclosed '[' or '{' before it?)", e);
        }
    }

    private static PolicyException SyntaxError(string sourceName, Mark at, string message, Exception inner) =>
        new(sourceName, new PolicyProblem(null, $"YAML syntax error: {message}", (int)at.Line, (int)at.Column), inner);

    private static Mark? FirstTabIndentedLine(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            var tab = lines[i].IndexOf('\t', 0, indent);
            if (tab >= 0)
            {
                return new Mark(0, i + 1, tab + 1);
            }
        }
        return null;
    }

    private static DocNode ReadNode(IParser parser, Dictionary<string, DocNode> anchors, int depth)
    {
        var current = parser.Current ?? throw new YamlException("unexpected end of the YAML stream");
        if (depth > MaxNesting)
        {
            throw new YamlException(current.Start, current.End, $"nested more than {MaxNesting} levels deep");
        }
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            return anchors.TryGetValue(alias.Value.Value, out var target)
                ? target
                : throw new YamlException(alias.Start, alias.End, $"alias '*{alias.Value.Value}' refers to no anchor defined before it");
        }
        DocNode node;
        AnchorName anchor;
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            node = new DocScalar(scalar.Start, scalar.Value, scalar.Style);
            anchor = scalar.Anchor;
        }
        else if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            var items = new List<DocNode>();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                items.Add(ReadNode(parser, anchors, depth + 1));
            }
            node = new DocSequence(sequenceStart.Start, items);
            anchor = sequenceStart.Anchor;
        }
        else if (parser.TryConsume<MappingStart>(out var mappingStart))
        {
            var entries = new List<KeyValuePair<DocNode, DocNode>>();
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var key = ReadNode(parser, anchors, depth + 1);
                var value = ReadNode(parser, anchors, depth + 1);
                entries.Add(new(key, value));
            }
            node = new DocMapping(mappingStart.Start, entries);
            anchor = mappingStart.Anchor;
        }
        else
        {
            throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
        }
        if (!anchor.IsEmpty)
        {
            anchors[anchor.Value] = node;
        }
        return node;
    }
}
