namespace Fim.Nats;

/// <summary>The login cannot work: an unreadable secret, a file without a seed, or the server refusing the credentials.</summary>
public sealed class NatsLoginException(string message, Exception? inner = null) : Exception(message, inner);
