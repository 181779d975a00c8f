using System.Text.Json.Serialization;
using Fim.Core.Rules;

namespace Fim.Core.Policy;

/// <summary>
/// Metadata of the policy and rule file models for the strict YAML reader (<see cref="BindableProperties"/>):
/// property names, types, setters and nullability, generated at build time instead of found by reflection.
/// Nested types (PathRule, ScheduleSpec, RuleSpec...) are reached through the properties of these roots.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PolicySpec))]
[JsonSerializable(typeof(RuleFileSpec))]
internal sealed partial class PolicyModelJson : JsonSerializerContext;
