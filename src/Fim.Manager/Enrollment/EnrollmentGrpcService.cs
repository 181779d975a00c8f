using Fim.Api.V1;
using Fim.Contracts;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Fim.Manager.Enrollment;

/// <summary>The gRPC face of <see cref="EnrollmentAdmin"/> (fimctl join-token / identity). FAILED_PRECONDITION while enrollment is off.</summary>
public sealed class EnrollmentGrpcService(EnrollmentAdmin admin, IOptions<EnrollmentOptions> options) : FimEnrollment.FimEnrollmentBase
{
    public override async Task<CreateJoinTokenResponse> CreateJoinToken(CreateJoinTokenRequest request, ServerCallContext context)
    {
        EnsureEnabled();
        var o = options.Value;
        if (request.Uses < 0 || request.TtlSeconds < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "uses and ttl_seconds: must not be negative"));
        }
        var uses = request.Uses == 0 ? o.DefaultTokenUses : request.Uses;
        var ttl = request.TtlSeconds == 0 ? o.DefaultTokenTtl : TimeSpan.FromSeconds(request.TtlSeconds);
        var (record, token) = await admin.CreateTokenAsync(uses, ttl, request.Description, context.CancellationToken);
        return new CreateJoinTokenResponse { Info = Map(record), Token = token };
    }

    public override async Task<ListJoinTokensResponse> ListJoinTokens(ListJoinTokensRequest request, ServerCallContext context)
    {
        EnsureEnabled();
        var response = new ListJoinTokensResponse();
        response.Tokens.AddRange((await admin.ListTokensAsync(context.CancellationToken)).Select(Map));
        return response;
    }

    public override async Task<JoinTokenInfo> RevokeJoinToken(RevokeJoinTokenRequest request, ServerCallContext context)
    {
        EnsureEnabled();
        var record = await admin.RevokeTokenAsync(request.TokenId, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no join token {request.TokenId}"));
        return Map(record);
    }

    public override Task<ListIdentitiesResponse> ListIdentities(ListIdentitiesRequest request, ServerCallContext context)
    {
        EnsureEnabled();
        var response = new ListIdentitiesResponse();
        response.Identities.AddRange(admin.ListIdentities().Select(Map));
        return Task.FromResult(response);
    }

    public override async Task<IdentityInfo> RevokeIdentity(RevokeIdentityRequest request, ServerCallContext context)
    {
        EnsureEnabled();
        if (!Subjects.IsValidAgentId(request.AgentId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "agent_id: must match [a-z0-9_-]{1,128}"));
        }
        var record = await admin.RevokeIdentityAsync(request.AgentId, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"agent {request.AgentId} never enrolled"));
        return Map(record);
    }

    private void EnsureEnabled()
    {
        if (!options.Value.Enabled)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"enrollment is not enabled on this manager ({EnrollmentOptions.Section}:Enabled)"));
        }
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
