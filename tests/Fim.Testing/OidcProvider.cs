using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fim.Testing;

/// <summary>
/// A real OpenID Connect provider (npm oidc-provider 9.x on Node.js, tests/oidc/provider.mjs) on 127.0.0.1 with a
/// free port, for tests: client_credentials clients that stand for each role, a browser client with a test-only
/// account, and JWT access tokens for <see cref="Audience"/>. Secrets are random per provider and known to the test.
/// scripts/install-deps.sh installs the package into .cache/oidc-provider.
/// </summary>
public sealed class OidcProvider : IAsyncDisposable
{
    public const string Audience = "https://fim.test/api";
    public const string OtherAudience = "https://other.test/api";
    public const string BrowserClient = "fim-console";

    /// <summary>The groups each role's client is in, and the group map a manager under test uses (<see cref="ManagerSettings"/>).</summary>
    public const string AdminGroup = "fim-admins";
    public const string AnalystGroup = "fim-analysts";
    public const string ViewerGroup = "fim-viewers";
    public const string PaymentsViewerGroup = "fim-payments-viewers";

    /// <summary>client_credentials clients: one per role, one limited to team=payments, one in no group, one whose tokens live 1 s.</summary>
    public const string Admin = "admin-bot";
    public const string Analyst = "analyst-bot";
    public const string Viewer = "viewer-bot";
    public const string PaymentsViewer = "payments-viewer-bot";
    public const string NoRole = "norole-bot";
    public const string ShortLived = "shortlived-bot";

    /// <summary>The browser accounts (one password for all, <see cref="AccountPassword"/>): an admin, an analyst and a viewer.</summary>
    public const string AccountLogin = "alice";
    public const string AnalystLogin = "bob";
    public const string ViewerLogin = "vic";

    private static readonly Lazy<Task<OidcProvider>> SharedProvider = new(async () =>
    {
        var provider = await StartAsync();
        // Nothing disposes a process-wide provider: end it with the test process rather than leave node running.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => provider._process.Dispose();
        return provider;
    });
    private readonly ChildProcess _process;
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Expires)> _tokens = new();
    private readonly HttpClient _http = new();

    private OidcProvider(ChildProcess process, int port, string issuer, string keysFile, IReadOnlyDictionary<string, string> secrets, string accountPassword)
    {
        _process = process;
        Port = port;
        Issuer = issuer;
        KeysFile = keysFile;
        ClientSecrets = secrets;
        AccountPassword = accountPassword;
    }

    /// <summary>One provider for the whole test process (most tests only need tokens).</summary>
    public static Task<OidcProvider> SharedAsync() => SharedProvider.Value;

    public int Port { get; }
    public string Issuer { get; }
    /// <summary>The provider's signing keys (a JWKS with private keys): a second provider started on them signs alike.</summary>
    public string KeysFile { get; }
    public IReadOnlyDictionary<string, string> ClientSecrets { get; }
    public string AccountPassword { get; }
    public string Log => _process.Output;

    public static string ModulesDir => Repository.File(".cache/oidc-provider/node_modules");

    /// <param name="keysFile">Signing keys to reuse (another provider's <see cref="KeysFile"/>); new keys when null.</param>
    /// <param name="issuerHost">The host name in the issuer (127.0.0.1 or localhost: same server, another issuer).</param>
    public static async Task<OidcProvider> StartAsync(string? keysFile = null, string issuerHost = "127.0.0.1")
    {
        if (!File.Exists(Path.Combine(ModulesDir, "oidc-provider", "package.json")))
        {
            throw new InvalidOperationException($"oidc-provider is not installed in {ModulesDir}: run scripts/install-deps.sh (npm oidc-provider into .cache/oidc-provider)");
        }
        var dir = Path.Combine(Path.GetTempPath(), "fim-oidc-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        var port = NatsServer.FreePort();
        var issuer = $"http://{issuerHost}:{port}";
        keysFile ??= Path.Combine(dir, "keys.json");
        var secrets = new[] { Admin, Analyst, Viewer, PaymentsViewer, NoRole, ShortLived, BrowserClient }.ToDictionary(c => c, _ => NewSecret());
        var password = NewSecret();
        JsonObject Client(string id, string? group, int ttl = 3600) => new()
        {
            ["client_id"] = id,
            ["client_secret"] = secrets[id],
            ["grant_types"] = new JsonArray("client_credentials"),
            ["redirect_uris"] = new JsonArray(),
            ["response_types"] = new JsonArray(),
            ["token_endpoint_auth_method"] = "client_secret_post",
            ["groups"] = group is null ? new JsonArray() : new JsonArray(group),
            ["tokenTtl"] = ttl,
        };
        var config = new JsonObject
        {
            ["modulesDir"] = ModulesDir,
            ["port"] = port,
            ["issuer"] = issuer,
            ["keysFile"] = keysFile,
            ["audience"] = Audience,
            ["clients"] = new JsonArray(
                Client(Admin, AdminGroup), Client(Analyst, AnalystGroup), Client(Viewer, ViewerGroup),
                Client(PaymentsViewer, PaymentsViewerGroup), Client(NoRole, null), Client(ShortLived, AdminGroup, ttl: 1),
                new JsonObject
                {
                    ["client_id"] = BrowserClient,
                    ["client_secret"] = secrets[BrowserClient],
                    ["grant_types"] = new JsonArray("authorization_code", "urn:ietf:params:oauth:grant-type:device_code", "refresh_token"),
                    ["redirect_uris"] = new JsonArray("http://127.0.0.1/signin-oidc"),
                    ["post_logout_redirect_uris"] = new JsonArray("http://127.0.0.1/"),
                    ["response_types"] = new JsonArray("code"),
                    ["token_endpoint_auth_method"] = "client_secret_post",
                }),
            ["accounts"] = new JsonArray(
                new JsonObject { ["login"] = AccountLogin, ["password"] = password, ["groups"] = new JsonArray(AdminGroup) },
                new JsonObject { ["login"] = AnalystLogin, ["password"] = password, ["groups"] = new JsonArray(AnalystGroup) },
                new JsonObject { ["login"] = ViewerLogin, ["password"] = password, ["groups"] = new JsonArray(ViewerGroup) }),
        };
        var configFile = Path.Combine(dir, "config.json");
        await File.WriteAllTextAsync(configFile, config.ToJsonString());
        var process = new ChildProcess("node", [Repository.File("tests/oidc/provider.mjs"), configFile], name: "oidc-provider");
        try
        {
            await process.AwaitLogAsync("oidc-provider listening");
        }
        catch
        {
            process.Dispose();
            throw;
        }
        return new OidcProvider(process, port, issuer, keysFile, secrets, password);
    }

    /// <summary>The Fim:Auth settings of a manager that trusts this provider, with the test group map.</summary>
    public IDictionary<string, string?> ManagerSettings(bool browserLogin = true, TimeSpan? clockSkew = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Fim:Auth:Oidc:Authority"] = Issuer,
            ["Fim:Auth:Oidc:Audience"] = Audience,
            ["Fim:Auth:Oidc:RequireHttpsMetadata"] = "false",
            ["Fim:Auth:Oidc:ClockSkew"] = (clockSkew ?? TimeSpan.Zero).ToString(),
            ["Fim:Auth:Groups:0:Group"] = AdminGroup,
            ["Fim:Auth:Groups:0:Role"] = "admin",
            ["Fim:Auth:Groups:1:Group"] = AnalystGroup,
            ["Fim:Auth:Groups:1:Role"] = "analyst",
            ["Fim:Auth:Groups:2:Group"] = ViewerGroup,
            ["Fim:Auth:Groups:2:Role"] = "viewer",
            ["Fim:Auth:Groups:3:Group"] = PaymentsViewerGroup,
            ["Fim:Auth:Groups:3:Role"] = "viewer",
            ["Fim:Auth:Groups:3:MatchLabels:team"] = "payments",
        };
        if (browserLogin)
        {
            settings["Fim:Auth:Oidc:ClientId"] = BrowserClient;
            settings["Fim:Auth:Oidc:ClientSecret"] = ClientSecrets[BrowserClient];
        }
        return settings;
    }

    /// <summary>A fresh access token (JWT) for a client_credentials client, for <paramref name="resource"/> (default <see cref="Audience"/>).</summary>
    public async Task<string> NewTokenAsync(string client, string? resource = null)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = client,
            ["client_secret"] = ClientSecrets[client],
        };
        if (resource is not null)
        {
            form["resource"] = resource;
        }
        using var response = await _http.PostAsync($"{Issuer}/token", new FormUrlEncodedContent(form));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"oidc-provider refused a token for {client}: {(int)response.StatusCode} {body}\n{Log}");
        }
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>A token for the client, reused until a minute before it expires.</summary>
    public async Task<string> TokenAsync(string client)
    {
        if (_tokens.TryGetValue(client, out var cached) && cached.Expires > DateTimeOffset.UtcNow.AddMinutes(1))
        {
            return cached.Token;
        }
        var token = await NewTokenAsync(client);
        _tokens[client] = (token, DateTimeOffset.UtcNow.AddMinutes(59));
        return token;
    }

    /// <summary>An HTTP handler that sends the client's bearer token on every request (REST and gRPC alike).</summary>
    public DelegatingHandler BearerHandler(string client, HttpMessageHandler? inner = null) =>
        new TokenHandler(() => TokenAsync(client)) { InnerHandler = inner ?? new SocketsHttpHandler() };

    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    /// <summary>Adds "Authorization: Bearer" from a token source unless the request already carries credentials.</summary>
    public sealed class TokenHandler(Func<Task<string>> token) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization ??= new AuthenticationHeaderValue("Bearer", await token());
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
