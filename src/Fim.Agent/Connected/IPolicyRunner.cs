using Fim.Core.Model;

namespace Fim.Agent.Connected;

/// <summary>What the supervisor does with a running policy: node files (<see cref="PolicyRunner"/>) or files inside pods' containers.</summary>
public interface IPolicyRunner : IAsyncDisposable
{
    AssignedPolicy Policy { get; }

    void Start();

    /// <summary>True when the monitoring took the request.</summary>
    bool RequestScan(string reason);

    /// <summary>The baseline record of a node path if this policy monitors it.</summary>
    FileRecord? Find(byte[] path);

    string BaselineDigest { get; }
}
