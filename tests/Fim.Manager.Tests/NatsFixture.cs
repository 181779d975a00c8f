using Fim.Manager.Tests.Support;
using Fim.Testing;

namespace Fim.Manager.Tests;

/// <summary>One real nats-server (JetStream) per test class, plus a client connection to it.</summary>
public sealed class NatsFixture : IAsyncLifetime
{
    public NatsServer Server { get; private set; } = null!;
    public NatsTestClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await NatsServer.StartAsync();
        Client = await NatsTestClient.ConnectAsync(Server.Url);
    }

    public async Task DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
    }
}
