using System.Text.Json.Serialization;
using Fim.Agent.Connected;

namespace Fim.Agent;

/// <summary>
/// The agent's own types that are read as documents: the config file's model, bound strictly by
/// <see cref="Fim.Core.Policy.StrictYaml"/> from this generated metadata (no reflection, so it works in the native
/// AOT build). Wire records live in Fim.Contracts' <c>ContractJson</c>.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(AgentOptions))]
internal sealed partial class AgentJson : JsonSerializerContext;
