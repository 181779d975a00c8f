using System.Security.Claims;
using Fim.Manager.Security;
using Microsoft.AspNetCore.Components.Authorization;

namespace Fim.Manager.WebConsole;

/// <summary>The signed-in user of this console circuit and what its grants allow, read once per circuit.</summary>
public sealed class ConsoleCaller(AuthenticationStateProvider authentication, GrantMapper grants)
{
    private (ClaimsPrincipal User, CallerAccess Access)? _caller;

    public async Task<(ClaimsPrincipal User, CallerAccess Access)> GetAsync()
    {
        if (_caller is null)
        {
            var user = (await authentication.GetAuthenticationStateAsync()).User;
            _caller = (user, grants.For(user));
        }
        return _caller.Value;
    }
}
