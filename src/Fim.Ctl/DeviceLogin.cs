using System.Net.Http.Json;
using System.Text.Json;

namespace Fim.Ctl;

/// <summary>
/// `fimctl login`: the OAuth 2.0 device authorization grant (RFC 8628) against the OIDC issuer. Shows a code and a
/// URL, polls the token endpoint until the user approved, and writes the access token to the token file (mode 0600).
/// </summary>
public sealed class DeviceLogin(HttpClient http, TextWriter stderr, TimeProvider time)
{
    private const string DeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

    public async Task<string> RunAsync(Uri issuer, string clientId, string scope, string? resource, CancellationToken cancellationToken)
    {
        var discovery = await GetJsonAsync(new Uri(issuer.ToString().TrimEnd('/') + "/.well-known/openid-configuration"), cancellationToken);
        var deviceEndpoint = discovery.TryGetProperty("device_authorization_endpoint", out var d) ? d.GetString()
            : throw new UsageException($"--issuer: {issuer} does not offer the device flow (no device_authorization_endpoint)");
        var tokenEndpoint = discovery.GetProperty("token_endpoint").GetString()!;

        var request = new Dictionary<string, string> { ["client_id"] = clientId, ["scope"] = scope };
        if (resource is not null)
        {
            request["resource"] = resource;
        }
        using var started = await http.PostAsync(deviceEndpoint, new FormUrlEncodedContent(request), cancellationToken);
        var device = await ReadAsync(started, "device authorization", cancellationToken);
        var deviceCode = device.GetProperty("device_code").GetString()!;
        var interval = TimeSpan.FromSeconds(device.TryGetProperty("interval", out var i) ? i.GetInt32() : 5);
        var uri = device.TryGetProperty("verification_uri_complete", out var complete) ? complete.GetString() : device.GetProperty("verification_uri").GetString();
        await stderr.WriteLineAsync($"To sign in, open {uri} and enter the code {device.GetProperty("user_code").GetString()}");
        await stderr.FlushAsync(cancellationToken);

        var poll = new Dictionary<string, string> { ["grant_type"] = DeviceGrant, ["device_code"] = deviceCode, ["client_id"] = clientId };
        while (true)
        {
            await Task.Delay(interval, time, cancellationToken);
            using var response = await http.PostAsync(tokenEndpoint, new FormUrlEncodedContent(poll), cancellationToken);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
            if (response.IsSuccessStatusCode)
            {
                return body.GetProperty("access_token").GetString()!;
            }
            switch (body.TryGetProperty("error", out var e) ? e.GetString() : null)
            {
                case "authorization_pending":
                    continue;
                case "slow_down":
                    interval += TimeSpan.FromSeconds(5);
                    continue;
                case "access_denied":
                    throw new LoginException("the sign-in was refused");
                case "expired_token":
                    throw new LoginException("the code expired before the sign-in finished; run fimctl login again");
                default:
                    throw new LoginException($"the issuer answered {(int)response.StatusCode}: {body}");
            }
        }
    }

    /// <summary>Writes the token to a file only its owner may read (created so, never widened first).</summary>
    public static void Save(string file, string token)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(file, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(token + "\n");
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private async Task<JsonElement> GetJsonAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(uri, cancellationToken);
        return await ReadAsync(response, "discovery", cancellationToken);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new LoginException($"{what} failed: {(int)response.StatusCode} {text}");
        }
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}

public sealed class LoginException(string message) : Exception(message);
