using System.Buffers;
using System.Security.Cryptography;
using Fim.Contracts;
using Fim.Core.Sources;
using Fim.Manager.Nats;
using Fim.Manager.Security;
using Fim.Manager.Telemetry;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Fim.Manager.Ingest;

/// <summary>
/// POST /api/v1/ingest/falco: Falco's http_output and falcosidekick's webhook (both post Falco's JSON event, one per
/// request; several newline-separated events are taken too). Each record is decoded like a tailed line and published
/// to fim.events.ingest-falco, so it goes through the same validation, rules, store and sinks as an agent's events;
/// the answer is 200 only once JetStream stored every accepted record. The message id is the post's own uuid
/// (falcosidekick) or a digest of the record, so a retried post makes no second alert. Callers need the analyst role,
/// like every other write through the API; unauthenticated posts are refused.
/// </summary>
public static class IngestEndpoint
{
    public const string PathPrefix = "/api/v1/ingest";
    public const string FalcoPath = PathPrefix + "/falco";

    public static bool Serves(HttpContext context) => context.Request.Path.StartsWithSegments(PathPrefix, StringComparison.Ordinal);

    public static void Map(WebApplication app)
    {
        app.MapPost(FalcoPath, (HttpContext context, NatsConnector nats, ManagerMetrics metrics, TimeProvider time, ILoggerFactory logs) =>
                PostAsync(context, SecurityRecord.Falco, nats, metrics, time, logs.CreateLogger(typeof(IngestEndpoint).FullName!)))
            .RequireAuthorization(Roles.IngestPolicy)
            .DisableAntiforgery();
    }

    private static async Task<IResult> PostAsync(HttpContext context, string format, NatsConnector nats, ManagerMetrics metrics, TimeProvider time, ILogger log)
    {
        var body = await ReadBodyAsync(context);
        if (body is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, detail: "the body is larger than Fim:Api:MaxRequestBytes");
        }
        var agentId = Subjects.IngestAgentId(format);
        var accepted = new List<FileEvent>();
        var rejected = new List<string>();
        var line = 0;
        foreach (var range in Lines(body))
        {
            line++;
            var bytes = body.AsSpan(range);
            var decoded = SecurityDecoder.Decode(format, bytes);
            if (decoded.Skipped)
            {
                continue;
            }
            if (decoded.Record is not { } record)
            {
                metrics.Ingested.WithLabels(format, decoded.Problem!.Reason).Inc();
                rejected.Add($"line {line}: {decoded.Problem.Detail}");
                continue;
            }
            var host = HostOf(record);
            var e = SecurityEvents.Create(record, agentId, host, policy: null, FalcoPath, time.GetUtcNow());
            e.EventId = $"{agentId}:{IdOf(record, bytes)}";
            accepted.Add(e);
        }
        if (accepted.Count == 0)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest,
                detail: rejected.Count == 0 ? "the body holds no Falco event" : string.Join("; ", rejected.Take(10)));
        }
        var js = await nats.JetStreamAsync(context.RequestAborted);
        foreach (var e in accepted)
        {
            e.PublishedAt = time.GetUtcNow();
            var ack = await js.PublishAsync(Subjects.Events(agentId), ContractJson.ToUtf8(e), NatsRawSerializer<byte[]>.Default,
                new NatsJSPubOpts { MsgId = e.EventId }, cancellationToken: context.RequestAborted);
            if (ack.Error is { } error)
            {
                log.LogWarning("Ingest: JetStream refused a {Format} record ({Code} {Description})", format, error.Code, error.Description);
                return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, detail: "the event stream did not store the record; retry");
            }
            metrics.Ingested.WithLabels(format, "accepted").Inc();
        }
        if (rejected.Count > 0)
        {
            log.LogWarning("Ingest: {Rejected} of {Total} {Format} records refused, first: {First}", rejected.Count, rejected.Count + accepted.Count, format, rejected[0]);
        }
        return Results.Ok(new IngestReply(accepted.Count, rejected));
    }

    /// <summary>Falco's hostname when it is a usable host name, else the ingest endpoint's own name for it.</summary>
    private static string HostOf(SecurityRecord record) =>
        record.Hostname is { Length: > 0 and <= EventLimits.MaxHostLength } h && EventLimits.IndexOfControl(h) < 0 ? h : "falco";

    /// <summary>falcosidekick's uuid when it sent one, else a digest of the record: a retried post has the same id.</summary>
    private static string IdOf(SecurityRecord record, ReadOnlySpan<byte> bytes) =>
        record.Fields.TryGetValue("uuid", out var uuid) && Guid.TryParse(uuid, out var g)
            ? g.ToString("N")
            : Convert.ToHexStringLower(SHA256.HashData(bytes))[..32];

    private static async Task<byte[]?> ReadBodyAsync(HttpContext context)
    {
        var limit = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Options.ApiOptions>>().Value.MaxRequestBytes;
        var buffer = new ArrayBufferWriter<byte>();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.WrittenCount + read > limit)
            {
                return null;
            }
            buffer.Write(chunk.AsSpan(0, read));
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static IEnumerable<Range> Lines(byte[] body)
    {
        var start = 0;
        for (var i = 0; i <= body.Length; i++)
        {
            if (i == body.Length || body[i] == (byte)'\n')
            {
                yield return start..i;
                start = i + 1;
            }
        }
    }
}

/// <summary>The answer to a post: how many records were stored, and why any others were not.</summary>
public sealed record IngestReply(int Accepted, IReadOnlyList<string> Rejected);
