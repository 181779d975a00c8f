namespace Fim.Operator.Api;

// Attributes read by the CRD generator (Crds/SchemaGenerator.cs) to write the OpenAPI v3 schema.

/// <summary>The property must be present (OpenAPI "required").</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredFieldAttribute : Attribute;

/// <summary>Human-readable description, shown by `kubectl explain`.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Class)]
public sealed class DescriptionAttribute(string text) : Attribute
{
    public string Text { get; } = text;
}

/// <summary>Allowed values of a string property.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class EnumValuesAttribute(params string[] values) : Attribute
{
    public IReadOnlyList<string> Values { get; } = values;
}

/// <summary>Regular expression a string (or each string of a list) must match.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PatternAttribute(string regex) : Attribute
{
    public string Regex { get; } = regex;
}

/// <summary>Inclusive bounds of a number; double.NaN leaves a side open.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RangeAttribute(double minimum = double.NaN, double maximum = double.NaN) : Attribute
{
    public double Minimum { get; } = minimum;
    public double Maximum { get; } = maximum;
}

/// <summary>Server-side default written into the schema.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class DefaultValueAttribute(object value) : Attribute
{
    public object Value { get; } = value;
}

/// <summary>Minimum number of items of a list.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MinItemsAttribute(int count) : Attribute
{
    public int Count { get; } = count;
}

/// <summary>A CEL rule the API server checks on the object at this level (x-kubernetes-validations).</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Property, AllowMultiple = true)]
public sealed class ValidationRuleAttribute(string rule, string message) : Attribute
{
    public string Rule { get; } = rule;
    public string Message { get; } = message;
}

/// <summary>A free-form object (a Kubernetes type embedded as is, e.g. affinity): x-kubernetes-preserve-unknown-fields.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class FreeFormAttribute : Attribute;

/// <summary>A status property another writer owns: a status merge patch from a reconciler that leaves it null does not remove it.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OwnedElsewhereAttribute : Attribute;
