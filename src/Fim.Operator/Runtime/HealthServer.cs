using System.Net;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Fim.Operator.Runtime;

/// <summary>/metrics (Prometheus text), /healthz (process alive) and /readyz (informers synced) on one port.</summary>
public sealed class HealthServer(int port, Func<bool> ready, ILogger logger)
{
    public async Task RunAsync(CancellationToken ct)
    {
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://+:{port}/");
        try
        {
            listener.Start();
        }
        catch (HttpListenerException)
        {
            listener.Prefixes.Clear();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Start();
        }

        logger.LogInformation("serving /metrics, /healthz and /readyz on port {Port}", port);
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
                case "/metrics":
                    response.ContentType = "text/plain; version=0.0.4";
                    await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(response.OutputStream, ct);
                    break;
                case "/healthz":
                    await WriteAsync(response, 200, "ok");
                    break;
                case "/readyz":
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
