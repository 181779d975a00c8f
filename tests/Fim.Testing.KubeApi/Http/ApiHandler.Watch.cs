using Fim.Testing.KubeApi.Printing;
using Fim.Testing.KubeApi.Selectors;
using Fim.Testing.KubeApi.Storage;
using Microsoft.AspNetCore.Http;

namespace Fim.Testing.KubeApi.Http;

/// <summary>Streaming a watch: JSON lines, flushed per event, with bookmarks and timeouts.</summary>
internal sealed partial class ApiHandler
{
    private async Task WatchAsync(HttpContext ctx, ResourceRoute route)
    {
        var q = ctx.Request.Query;
        var fields = FieldSelector.Parse(q["fieldSelector"]);
        if (route.Name is not null)
        {
            fields = FieldSelector.Parse($"metadata.name={route.Name}" + (q["fieldSelector"].Count > 0 ? "," + q["fieldSelector"] : ""));
        }

        var allowBookmarks = IsTrue(q["allowWatchBookmarks"]);
        var request = new WatchRequest(
            route.Type,
            route.Namespace,
            LabelSelector.Parse(q["labelSelector"]),
            fields,
            allowBookmarks,
            TablePrinter.WantsTable(ctx.Request.Headers.Accept.ToString()),
            q["includeObject"]);
        var sub = store.Watch(request, q["resourceVersion"], IsTrue(q["sendInitialEvents"]));
        try
        {
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            ctx.Response.Headers.CacheControl = "no-cache, private";
            await ctx.Response.StartAsync(ctx.RequestAborted);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);

            TimeSpan? timeout = int.TryParse(q["timeoutSeconds"], out var seconds) && seconds > 0
                ? TimeSpan.FromSeconds(seconds)
                : options.DefaultWatchTimeout;
            using var timeoutCts = timeout is { } t ? new CancellationTokenSource(t) : new CancellationTokenSource();
            using var onTimeout = timeoutCts.Token.Register(() =>
            {
                if (allowBookmarks)
                {
                    store.Bookmark(sub);
                }

                store.Unwatch(sub);
                sub.End(abort: false);
            });
            using var bookmarks = allowBookmarks
                ? new Timer(_ => store.Bookmark(sub), null, options.BookmarkInterval, options.BookmarkInterval)
                : null;

            await foreach (var line in sub.Lines.ReadAllAsync(ctx.RequestAborted))
            {
                await ctx.Response.Body.WriteAsync(line, ctx.RequestAborted);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            }

            if (sub.AbortConnection)
            {
                ctx.Abort();
            }
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (IOException)
        {
            // The client went away mid-write.
        }
        finally
        {
            store.Unwatch(sub);
            sub.End(abort: false);
        }
    }
}
