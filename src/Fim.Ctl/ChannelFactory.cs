using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;

namespace Fim.Ctl;

/// <summary>The gRPC channel to a manager, built for a load-balanced pool of stateless managers.</summary>
public static class ChannelFactory
{
    /// <param name="token">Sent as "Authorization: Bearer" on every call when given.</param>
    public static GrpcChannel Create(Uri server, string? caFile, string? token = null)
    {
        var handler = new SocketsHttpHandler
        {
            // gRPC multiplexes every call over one long-lived HTTP/2 connection. Behind an NLB (layer 4) that connection
            // pins the client to one manager pod for ever: new pods added by the HPA would get no traffic from it. A finite
            // lifetime makes the client reconnect now and then, so connections spread over the current pods.
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            // When one connection reaches the server's concurrent-stream limit, open another instead of queueing calls.
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        if (caFile is not null)
        {
            var ca = X509Certificate2.CreateFromPem(File.ReadAllText(caFile));
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                // Trust only the given CA for this server (a private PKI), with normal name and chain checks.
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                    {
                        return false;
                    }
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(certificate));
                },
            };
        }
        HttpMessageHandler outer = token is null ? handler : new BearerHandler(token) { InnerHandler = handler };
        return GrpcChannel.ForAddress(server, new GrpcChannelOptions { HttpHandler = outer, DisposeHttpClient = true });
    }

    private sealed class BearerHandler(string token) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
