using Fim.Nats;
using Fim.Nats.Identity;

namespace Fim.Agent.Connected;

/// <summary>
/// The key events are signed with: the NKey behind the agent's NATS identity (its creds file from `fim-agent enroll`, or
/// its NKey seed file). Agents that log in otherwise (password, token, certificate only) send unsigned events.
/// </summary>
public sealed class EventSigning(EventSigner? signer)
{
    public EventSigner? Signer { get; } = signer;

    public static EventSigning From(NatsConnectionOptions nats)
    {
        var file = !string.IsNullOrEmpty(nats.CredsFile) ? nats.CredsFile : nats.NKeyFile;
        return new EventSigning(string.IsNullOrEmpty(file) || !File.Exists(file) ? null : new EventSigner(NKeySeedFile.Read(file)));
    }
}
