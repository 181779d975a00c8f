using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Fim.Core.Policy;

/// <summary>
/// Fills the policy model from a parsed document, strictly: keys are the camelCase property names, every value
/// must have the property's type, nothing unknown or duplicated is ignored. Collects every problem before failing.
/// </summary>
internal sealed class PolicyBinder
{
    // Aliases share nodes, so a small document can expand into a huge one ("billion laughs"); bound the work.
    private const int MaxBoundValues = 100_000;
    private const int MaxQuotedLength = 60;

    private readonly PolicySourceMap _positions;
    private readonly JsonSerializerOptions _model;
    private readonly List<PolicyProblem> _problems = [];
    private int _valuesLeft = MaxBoundValues;

    private PolicyBinder(PolicySourceMap positions, JsonSerializerOptions model)
    {
        _positions = positions;
        _model = model;
    }

    /// <param name="model">Source-generated metadata of <typeparamref name="T"/> (and, through its context, of the types it holds).</param>
    public static T Bind<T>(DocMapping root, PolicySourceMap positions, JsonTypeInfo<T> model)
        where T : class, new()
    {
        var binder = new PolicyBinder(positions, model.Options);
        positions.Record("", root);
        var result = (T)binder.BindObject(BindableProperties.Of(model), root, "");
        if (binder._problems.Count > 0)
        {
            throw new PolicyException(positions.SourceName, binder._problems);
        }
        return result;
    }

    /// <summary>
    /// Binds what can be bound and returns it with every binding problem, without throwing: for readers that check the
    /// result further and report all problems of a file at once (an unknown key must not hide the other errors).
    /// </summary>
    public static (T Result, IReadOnlyList<PolicyProblem> Problems) BindCollecting<T>(DocMapping root, PolicySourceMap positions, JsonTypeInfo<T> model)
        where T : class, new()
    {
        var binder = new PolicyBinder(positions, model.Options);
        positions.Record("", root);
        var result = (T)binder.BindObject(BindableProperties.Of(model), root, "");
        return (result, binder._problems);
    }

    private object BindObject(BindableProperties properties, DocMapping mapping, string path)
    {
        var instance = properties.Create();
        var seen = new Dictionary<string, DocNode>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in mapping.Entries)
        {
            if (keyNode is not DocScalar { IsNull: false } key)
            {
                Problem(path, keyNode, $"keys in {FieldPaths.DescribeContainer(path)} must be names, got {DescribeNode(keyNode)}");
                continue;
            }
            var fieldPath = FieldPaths.Member(path, key.Value);
            if (seen.TryGetValue(key.Value, out var first))
            {
                Problem(fieldPath, key, $"duplicate key '{key.Value}' in {FieldPaths.DescribeContainer(path)} (first given at line {first.Line})");
                continue;
            }
            seen.Add(key.Value, key);
            if (!properties.TryGet(key.Value, out var property))
            {
                Problem(fieldPath, key, UnknownKeyMessage(key.Value, path, properties.Keys));
                continue;
            }
            if (TryBindValue(property.Type, property.AcceptsNull, valueNode, fieldPath, out var value))
            {
                property.Property.Set!(instance, value);
            }
        }
        return instance;
    }

    private bool TryBindValue(Type type, bool acceptsNull, DocNode node, string path, out object? value)
    {
        value = null;
        _positions.Record(path, node);
        if (--_valuesLeft < 0)
        {
            if (_valuesLeft == -1)
            {
                Problem(path, node, $"the document expands to more than {MaxBoundValues} values (through aliases?); refusing to read further");
            }
            return false;
        }
        if (node is DocScalar { IsNull: true })
        {
            return TryBindNull(type, acceptsNull, node, path, out value);
        }
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string))
        {
            return node is DocScalar text ? Bound(text.Value, out value) : Mismatch(type, node, path);
        }
        if (target == typeof(bool))
        {
            return node is DocScalar { Value: "true" or "True" or "TRUE" or "false" or "False" or "FALSE" } flag
                ? Bound(flag.Value[0] is 't' or 'T', out value)
                : Mismatch(type, node, path);
        }
        if (target == typeof(int) || target == typeof(long))
        {
            return TryBindInteger(target, node, path, out value);
        }
        if (target == typeof(decimal))
        {
            // Rule thresholds on decoded fields (greaterThan: 0.5); decimal, so "0.1" means exactly what it says.
            return node is DocScalar number && decimal.TryParse(number.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                ? Bound(d, out value)
                : Mismatch(type, node, path);
        }
        if (target == typeof(Dictionary<string, string>))
        {
            return node is DocMapping map ? TryBindStringMap(map, path, out value) : Mismatch(type, node, path);
        }
        if (IsList(target, out var listInfo))
        {
            return TryBindList(listInfo, node, path, out value);
        }
        if (IsModelObject(target, out var modelInfo))
        {
            return node is DocMapping mapping ? Bound(BindObject(BindableProperties.Of(modelInfo), mapping, path), out value) : Mismatch(type, node, path);
        }
        Problem(path, node, $"{FieldPaths.Describe(path)} has a type ({type.Name}) the policy reader does not support");
        return false;
    }

    /// <summary>An empty value clears what may be null and leaves lists and sections at their defaults.</summary>
    private bool TryBindNull(Type type, bool acceptsNull, DocNode node, string path, out object? value)
    {
        value = null;
        if (acceptsNull || Nullable.GetUnderlyingType(type) is not null)
        {
            return true;
        }
        if (IsList(type, out var info) || IsModelObject(type, out info))
        {
            value = info.CreateObject!();
            return true;
        }
        return Mismatch(type, node, path);
    }

    private bool TryBindInteger(Type type, DocNode node, string path, out object? value)
    {
        value = null;
        if (node is not DocScalar scalar
            || !long.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            return Mismatch(type, node, path);
        }
        if (type == typeof(int))
        {
            if (number is < int.MinValue or > int.MaxValue)
            {
                Problem(path, node, $"{FieldPaths.Describe(path)} expects an integer from {int.MinValue} to {int.MaxValue}, got {DescribeNode(node)}");
                return false;
            }
            value = (int)number;
            return true;
        }
        value = number;
        return true;
    }

    private bool TryBindList(JsonTypeInfo listInfo, DocNode node, string path, out object? value)
    {
        value = null;
        var listType = listInfo.Type;
        var itemType = listInfo.ElementType!;
        var list = (System.Collections.IList)listInfo.CreateObject!();
        // A lone string where a list of strings is expected is the one-item list: "exclude: '*.log'".
        IReadOnlyList<DocNode> items = node switch
        {
            DocSequence sequence => sequence.Items,
            DocScalar when itemType == typeof(string) => [node],
            _ => [],
        };
        if (node is not DocSequence && items.Count == 0)
        {
            return Mismatch(listType, node, path);
        }
        var ok = true;
        for (var i = 0; i < items.Count; i++)
        {
            if (TryBindValue(itemType, acceptsNull: false, items[i], FieldPaths.Item(path, i), out var item))
            {
                list.Add(item);
            }
            else
            {
                ok = false;
            }
        }
        value = list;
        return ok;
    }

    private bool TryBindStringMap(DocMapping mapping, string path, out object? value)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        var firstLines = new Dictionary<string, int>(StringComparer.Ordinal);
        var ok = true;
        foreach (var (keyNode, valueNode) in mapping.Entries)
        {
            if (keyNode is not DocScalar { IsNull: false } key)
            {
                Problem(path, keyNode, $"keys in {FieldPaths.DescribeContainer(path)} must be names, got {DescribeNode(keyNode)}");
                ok = false;
                continue;
            }
            var entryPath = FieldPaths.Entry(path, key.Value);
            if (firstLines.TryGetValue(key.Value, out var firstLine))
            {
                Problem(entryPath, key, $"duplicate key '{key.Value}' in {FieldPaths.DescribeContainer(path)} (first given at line {firstLine})");
                ok = false;
                continue;
            }
            firstLines.Add(key.Value, key.Line);
            if (TryBindValue(typeof(string), acceptsNull: false, valueNode, entryPath, out var text))
            {
                map.Add(key.Value, (string)text!);
            }
            else
            {
                ok = false;
            }
        }
        value = map;
        return ok;
    }

    private bool Mismatch(Type type, DocNode node, string path)
    {
        Problem(path, node, $"{FieldPaths.Describe(path)} expects {Expectation(type)}, got {DescribeNode(node)}");
        return false;
    }

    private void Problem(string fieldPath, DocNode at, string message) =>
        _problems.Add(new PolicyProblem(fieldPath.Length == 0 ? null : fieldPath, message, at.Line, at.Column));

    private static bool Bound(object result, out object? value)
    {
        value = result;
        return true;
    }

    private static string UnknownKeyMessage(string key, string path, IReadOnlyList<string> allowed)
    {
        var suggestion = NearestName.Find(key, allowed) is { } near ? $" did you mean '{near}'?" : "";
        return $"unknown key '{Quote(key)}' in {FieldPaths.DescribeContainer(path)};{suggestion} allowed: {string.Join(", ", allowed)}";
    }

    private string Expectation(Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string))
        {
            return "a string";
        }
        if (target == typeof(bool))
        {
            return "true or false";
        }
        if (target == typeof(int) || target == typeof(long))
        {
            return "an integer";
        }
        if (target == typeof(decimal))
        {
            return "a number";
        }
        if (target == typeof(Dictionary<string, string>))
        {
            return "a mapping of names to strings";
        }
        if (IsList(target, out var listInfo))
        {
            return listInfo.ElementType == typeof(string) ? "a list of strings" : $"a list of mappings with keys {string.Join(", ", BindableProperties.Of(_model.GetTypeInfo(listInfo.ElementType!)).Keys)}";
        }
        return IsModelObject(target, out var info) ? $"a mapping with keys {string.Join(", ", BindableProperties.Of(info).Keys)}" : type.Name;
    }

    private static string DescribeNode(DocNode node) => node switch
    {
        DocScalar { IsNull: true } => "nothing",
        DocScalar scalar => $"'{Quote(scalar.Value)}'",
        DocSequence => "a list",
        _ => "a mapping",
    };

    private static string Quote(string text) =>
        text.Length <= MaxQuotedLength ? text : string.Concat(text.AsSpan(0, MaxQuotedLength), "...");

    private bool IsList(Type type, out JsonTypeInfo info)
    {
        info = null!;
        if (!type.IsGenericType || type.GetGenericTypeDefinition() != typeof(List<>))
        {
            return false;
        }
        info = _model.GetTypeInfo(type);
        return info.CreateObject is not null;
    }

    private bool IsModelObject(Type type, out JsonTypeInfo info)
    {
        info = null!;
        if (!type.IsClass || type == typeof(string) || !_model.TryGetTypeInfo(type, out var found)
            || found.Kind != JsonTypeInfoKind.Object || found.CreateObject is null)
        {
            return false;
        }
        info = found;
        return true;
    }
}
