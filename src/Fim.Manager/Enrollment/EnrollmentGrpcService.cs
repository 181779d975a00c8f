using Fim.Api.V1;
using Fim.Contracts;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Fim.Manager.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Enrollment;

/// <summary>The gRPC face of <see cref="EnrollmentAdmin"/> (fimctl join-token / identity). FAILED_PRECONDITION while enrollment is off.</summary>
/// <remarks>Join tokens and identities decide who may join the whole fleet: only an admin without agent or namespace limits.</remarks>
[Authorize(Policy = Roles.AdminPolicy)]
public sealed class EnrollmentGrpcService(EnrollmentAdmin admin, IOptions<EnrollmentOptions> options, GrantMapper grants, AuditLog audit)
    : FimEnrollment.FimEnrollmentBase
{
    public override async Task<CreateJoinTokenResponse> CreateJoinToken(CreateJoinTokenRequest request, ServerCallContext context)
    {
        var caller = EnsureAllowed(context);
        var o = options.Value;
        if (request.Uses < 0 || request.TtlSeconds < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "uses and ttl_seconds: must not be negative"));
        }
        var uses = request.Uses == 0 ? o.DefaultTokenUses : request.Uses;
        var ttl = request.TtlSeconds == 0 ? o.DefaultTokenTtl : TimeSpan.FromSeconds(request.TtlSeconds);
        var (record, token) = await admin.CreateTokenAsync(uses, ttl, request.Description, context.CancellationToken);
        audit.Call(caller, context.GetHttpContext(), "create-join-token", record.TokenId, "ok");
        return new CreateJoinTokenResponse { Info = Map(record), Token = token };
    }

    public override async Task<ListJoinTokensResponse> ListJoinTokens(ListJoinTokensRequest request, ServerCallContext context)
    {
        EnsureAllowed(context);
        var response = new ListJoinTokensResponse();
        response.Tokens.AddRange((await admin.ListTokensAsync(context.CancellationToken)).Select(Map));
        return response;
    }

    public override async Task<JoinTokenInfo> RevokeJoinToken(RevokeJoinTokenRequest request, ServerCallContext context)
    {
        var caller = EnsureAllowed(context);
        var record = await admin.RevokeTokenAsync(request.TokenId, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no join token {request.TokenId}"));
        audit.Call(caller, context.GetHttpContext(), "revoke-join-token", request.TokenId, "ok");
        return Map(record);
    }

    public override Task<ListIdentitiesResponse> ListIdentities(ListIdentitiesRequest request, ServerCallContext context)
    {
        EnsureAllowed(context);
        var response = new ListIdentitiesResponse();
        response.Identities.AddRange(admin.ListIdentities().Select(Map));
        return Task.FromResult(response);
    }

    public override async Task<IdentityInfo> RevokeIdentity(RevokeIdentityRequest request, ServerCallContext context)
    {
        var caller = EnsureAllowed(context);
        if (!Subjects.IsValidAgentId(request.AgentId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "agent_id: must match [a-z0-9_-]{1,128}"));
        }
        var record = await admin.RevokeIdentityAsync(request.AgentId, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"agent {request.AgentId} never enrolled"));
        audit.Call(caller, context.GetHttpContext(), "revoke-identity", request.AgentId, "ok");
        return Map(record);
    }

    private CallerAccess EnsureAllowed(ServerCallContext context)
    {
        var caller = grants.For(context.GetHttpContext());
        if (!caller.HasUnscoped(Role.Admin))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "join tokens and agent identities need an admin role without agent or namespace limits"));
        }
        if (!options.Value.Enabled)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"enrollment is not enabled on this manager ({EnrollmentOptions.Section}:Enabled)"));
        }
        return caller;
    }

    private static JoinTokenInfo Map(JoinTokenRecord r)
    {
        var info = new JoinTokenInfo
        {
            TokenId = r.TokenId,
            Uses = r.Uses,
            MaxUses = r.MaxUses,
            CreatedAt = Timestamp.FromDateTimeOffset(r.CreatedAt),
            ExpiresAt = Timestamp.FromDateTimeOffset(r.ExpiresAt),
            Description = r.Description,
        };
        if (r.RevokedAt is { } revoked)
        {
            info.RevokedAt = Timestamp.FromDateTimeOffset(revoked);
        }
        return info;
    }

    private static IdentityInfo Map(AgentIdentityRecord r)
    {
        var info = new IdentityInfo { AgentId = r.AgentId, PublicKey = r.PublicKey, EnrolledAt = Timestamp.FromDateTimeOffset(r.EnrolledAt), TokenId = r.TokenId };
        if (r.RevokedAt is { } revoked)
        {
            info.RevokedAt = Timestamp.FromDateTimeOffset(revoked);
        }
        return info;
    }
}
