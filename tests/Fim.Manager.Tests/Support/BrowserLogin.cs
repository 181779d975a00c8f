using System.Net;
using System.Text.RegularExpressions;
using Fim.Testing;

namespace Fim.Manager.Tests.Support;

/// <summary>A browser's part in the manager's login: follows /login to the provider, fills in its form, posts the code back.</summary>
public static partial class BrowserLogin
{
    /// <summary>Logs in as the provider's test account; returns the last response (the page /login was asked to return to).</summary>
    public static async Task<HttpResponseMessage> LoginAsync(HttpClient browser, OidcProvider oidc, string returnUrl = "/me", string? password = null)
    {
        var page = await browser.GetAsync("/login?returnUrl=" + Uri.EscapeDataString(returnUrl));
        var html = await page.Content.ReadAsStringAsync();
        if (page.StatusCode != HttpStatusCode.OK || !page.RequestMessage!.RequestUri!.ToString().StartsWith(oidc.Issuer + "/interaction/", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"/login did not end on the provider's login page: {(int)page.StatusCode} {page.RequestMessage?.RequestUri}\n{html}");
        }
        var action = new Uri(page.RequestMessage.RequestUri, Form(html).Action);
        var afterLogin = await browser.PostAsync(action, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["login"] = OidcProvider.AccountLogin,
            ["password"] = password ?? oidc.AccountPassword,
        }));
        // The provider redirects to the manager's callback with the code in the query (response_mode=query), and the
        // manager on to the return path: the client followed both.
        return afterLogin;
    }

    /// <summary>The action and hidden fields of the first form in a page.</summary>
    public static (string Action, Dictionary<string, string> Fields) Form(string html)
    {
        var form = FormTag().Match(html);
        if (!form.Success)
        {
            throw new InvalidOperationException("no form in:\n" + html);
        }
        var fields = new Dictionary<string, string>();
        foreach (Match input in InputTag().Matches(html))
        {
            var name = NameAttribute().Match(input.Value);
            var value = ValueAttribute().Match(input.Value);
            if (name.Success && input.Value.Contains("hidden", StringComparison.Ordinal))
            {
                fields[WebUtility.HtmlDecode(name.Groups[1].Value)] = WebUtility.HtmlDecode(value.Groups[1].Value);
            }
        }
        return (WebUtility.HtmlDecode(form.Groups[1].Value), fields);
    }

    [GeneratedRegex("<form[^>]*action=\"([^\"]+)\"", RegexOptions.IgnoreCase)]
    private static partial Regex FormTag();

    [GeneratedRegex("<input[^>]*>")]
    private static partial Regex InputTag();

    [GeneratedRegex("name=\"([^\"]*)\"")]
    private static partial Regex NameAttribute();

    [GeneratedRegex("value=\"([^\"]*)\"")]
    private static partial Regex ValueAttribute();
}
