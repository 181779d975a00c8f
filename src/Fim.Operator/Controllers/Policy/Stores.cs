using Fim.Contracts;

namespace Fim.Operator.Controllers.Policy;

/// <summary>KV fim-policies as the policy controller needs it.</summary>
public interface IPolicyStore
{
    Task<byte[]?> GetAsync(string key, CancellationToken ct);

    Task PutAsync(string key, byte[] value, CancellationToken ct);

    Task DeleteAsync(string key, CancellationToken ct);

    /// <summary>Keys that hold a value (deleted keys excluded).</summary>
    Task<IReadOnlyList<string>> KeysAsync(CancellationToken ct);
}

/// <summary>The latest heartbeat of every agent (KV fim-agents), kept current by a watch.</summary>
public interface IAgentDirectory
{
    IReadOnlyCollection<Heartbeat> Agents { get; }

    /// <summary>Raised after any heartbeat changed.</summary>
    event Action? Changed;
}
