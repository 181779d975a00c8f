using Microsoft.AspNetCore.Authorization;

namespace Fim.Manager.Security;

/// <summary>The caller holds at least <see cref="Role"/> (for some agents; which ones is decided per record).</summary>
public sealed record RoleRequirement(Role Role) : IAuthorizationRequirement;

public sealed class RoleRequirementHandler(GrantMapper grants) : AuthorizationHandler<RoleRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RoleRequirement requirement)
    {
        var access = context.Resource is HttpContext http ? grants.For(http) : grants.For(context.User);
        if (access.Has(requirement.Role))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}

/// <summary>The caller holds the ingest role, or analyst or above.</summary>
public sealed record IngestRequirement : IAuthorizationRequirement;

public sealed class IngestRequirementHandler(GrantMapper grants) : AuthorizationHandler<IngestRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, IngestRequirement requirement)
    {
        var access = context.Resource is HttpContext http ? grants.For(http) : grants.For(context.User);
        if (access.Grants.Any(g => g.Role == Role.Ingest || g.Role >= Role.Analyst))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}

/// <summary>Never satisfied: the fallback policy, so an endpoint mapped without a policy is refused to everyone.</summary>
public sealed record DenyRequirement : IAuthorizationRequirement;
