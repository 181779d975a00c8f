using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Fim.Operator.Runtime;

/// <summary>Which endpoints one listener serves.</summary>
[Flags]
public enum HealthEndpoints
{
    None = 0,
    Metrics = 1,
    Health = 2,
}

/// <summary>A listen address "HOST:PORT"; an empty host, "*", "+" or "0.0.0.0" means every interface; port 0 = off.</summary>
public sealed record BindAddress(string Host, int Port)
{
    public bool Off => Port == 0;

    public bool AllInterfaces => Host is "" or "*" or "+" or "0.0.0.0";

    public static BindAddress Parse(string text, string option)
    {
        var i = text.LastIndexOf(':');
        if (i < 0 || !int.TryParse(text[(i + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new ArgumentException($"{option}: '{text}' is not HOST:PORT (e.g. :8080 or 127.0.0.1:8080; port 0 turns it off)");
        }

        return new BindAddress(text[..i].Trim('[', ']'), port);
    }

    public string Prefix => $"http://{(AllInterfaces ? "+" : Host)}:{Port}/";

    public override string ToString() => $"{(AllInterfaces ? "*" : Host)}:{Port}";
}

/// <summary>/metrics (Prometheus text), /healthz (process alive) and /readyz (see OperatorRunner.Ready) on one listener.</summary>
public sealed class HealthServer(BindAddress address, HealthEndpoints endpoints, Func<bool> ready, ILogger logger)
{
    public HealthServer(int port, Func<bool> ready, ILogger logger)
        : this(new BindAddress("", port), HealthEndpoints.Metrics | HealthEndpoints.Health, ready, logger)
    {
    }

    public async Task RunAsync(CancellationToken ct)
    {
        using var listener = new HttpListener();
        listener.Prefixes.Add(address.Prefix);
        listener.Start();
        logger.LogInformation("serving {Endpoints} on {Address}", endpoints, address);
        await using var stop = ct.Register(listener.Stop);
        while (!ct.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(context, ct), CancellationToken.None);
        }
    }

    private async Task ServeAsync(HttpListenerContext context, CancellationToken ct)
    {
        var response = context.Response;
        try
        {
            switch (context.Request.Url?.AbsolutePath)
            {
                case "/metrics" when endpoints.HasFlag(HealthEndpoints.Metrics):
                    response.ContentType = "text/plain; version=0.0.4";
                    await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(response.OutputStream, ct);
                    break;
                case "/healthz" when endpoints.HasFlag(HealthEndpoints.Health):
                    await WriteAsync(response, 200, "ok");
                    break;
                case "/readyz" when endpoints.HasFlag(HealthEndpoints.Health):
                    var ok = ready();
                    await WriteAsync(response, ok ? 200 : 503, ok ? "ok" : "not ready");
                    break;
                default:
                    await WriteAsync(response, 404, "not found");
                    break;
            }
        }
        catch (Exception e)
        {
            logger.LogDebug("health server: {Error}", e.Message);
        }
        finally
        {
            response.Close();
        }
    }

    private static async Task WriteAsync(HttpListenerResponse response, int status, string text)
    {
        response.StatusCode = status;
        var bytes = System.Text.Encoding.UTF8.GetBytes(text + "\n");
        await response.OutputStream.WriteAsync(bytes);
    }
}
