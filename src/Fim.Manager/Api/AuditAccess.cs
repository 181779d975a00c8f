using V1 = Fim.Api.V1;
using System.Globalization;
using Fim.Contracts;
using Fim.Manager.Audit;
using Fim.Manager.Security;
using Fim.Manager.Store;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Fim.Manager.Api;

/// <summary>
/// The audit log's list and verification for one caller: the whole fleet's trail, so only an admin without an agent
/// or namespace limit may read it. The API and the console both come here.
/// </summary>
public sealed class AuditAccess(IAuditStore auditLog, IAuditCheckpoint auditCheckpoint, AuditedMethods auditedMethods, TimeProvider time)
{
    private const int MaxAuditText = 1024;
    private static readonly TimeSpan DefaultAuditSpan = TimeSpan.FromDays(7);

    public static bool MayRead(CallerAccess caller) => caller.HasUnscoped(Role.Admin);

    public async Task<V1.ListAuditLogResponse> ListAsync(CallerAccess caller, V1.ListAuditLogRequest request, CancellationToken cancellationToken)
    {
        RequireAuditor(caller);
        var until = request.Until is null ? time.GetUtcNow() : ApiArguments.Time(request.Until, "until");
        var since = request.Since is null ? until - DefaultAuditSpan : ApiArguments.Time(request.Since, "since");
        if (since >= until)
        {
            throw ApiArguments.Invalid("since: must be before until");
        }
        long? before = request.Cursor.Length == 0 ? null
            : long.TryParse(request.Cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var c) && c > 0 ? c
            : throw ApiArguments.Invalid("cursor: is malformed (pass next_cursor of the previous page unchanged)");
        if (request.Actor.Length > MaxAuditText || request.Action.Length > MaxAuditText)
        {
            throw ApiArguments.Invalid($"{(request.Actor.Length > MaxAuditText ? "actor" : "action")}: must be at most {MaxAuditText} characters");
        }
        IReadOnlyList<string>? actions = null;
        if (request.Action.Length > 0)
        {
            actions = auditedMethods.Actions(request.Action);
            if (actions.Count == 0)
            {
                throw ApiArguments.Invalid($"action: no API method is called '{request.Action}' (give a method name such as ReviewAlerts, or service/method)");
            }
        }
        var page = await auditLog.ListAuditAsync(new AuditQuery
        {
            Since = since,
            Until = until,
            Actor = request.Actor.Length == 0 ? null : request.Actor,
            Actions = actions,
            BeforeSequence = before,
            Limit = ApiArguments.Limit(request.HasLimit, request.Limit),
        }, cancellationToken);
        var response = new V1.ListAuditLogResponse { NextCursor = page.Next?.ToString(CultureInfo.InvariantCulture) ?? "" };
        response.Entries.Add(page.Entries.Select(e => new V1.AuditEntry
        {
            Sequence = e.Sequence,
            Time = Timestamp.FromDateTimeOffset(Micros.ToTime(e.AtMicros)),
            Actor = e.Actor,
            AuthMethod = e.AuthMethod,
            Action = e.Action,
            Target = e.Target,
            Detail = e.Detail,
            Outcome = e.Outcome,
            Hash = e.Hash,
            PreviousHash = e.PreviousHash,
        }));
        return response;
    }

    public async Task<V1.VerifyAuditLogResponse> VerifyAsync(CallerAccess caller, CancellationToken cancellationToken)
    {
        RequireAuditor(caller);
        var rows = await auditLog.ReadAuditChainAsync(cancellationToken);
        AuditCheckpoint? checkpoint;
        try
        {
            checkpoint = await auditCheckpoint.ReadAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"checkpoint: KV {Subjects.AuditBucket} could not be read: {e.Message}"));
        }
        var v = AuditChain.Verify(rows, checkpoint);
        return new V1.VerifyAuditLogResponse
        {
            Ok = v.Ok,
            Rows = v.Rows,
            LastSequence = v.LastSequence,
            LastHash = v.LastHash,
            CheckpointSequence = v.CheckpointSequence,
            FirstBadSequence = v.FirstBadSequence,
            Problem = v.Problem,
            Detail = v.Detail,
        };
    }

    private static void RequireAuditor(CallerAccess caller)
    {
        if (!MayRead(caller))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "the audit log covers the whole fleet: it needs an admin role without an agent or namespace limit"));
        }
    }
}
