using System.CommandLine;
using Fim.Agent.Connected;
using Fim.Contracts;
using Fim.Nats;
using Fim.Nats.Identity;
using Microsoft.Extensions.Logging;
using NATS.NKeys;
using Serilog;
using Serilog.Extensions.Logging;
using Serilog.Formatting.Compact;

namespace Fim.Agent.Cli;

/// <summary>
/// `fim-agent enroll --nats-url URL --join-token-file F --creds-file OUT`: generates this host's NKey, asks a manager for
/// the matching user JWT with a join token, and writes both as a creds file (mode 0600) for `nats.credsFile`. The seed
/// never leaves the host. Run again with the creds file present, it keeps the existing key and uses no token.
/// </summary>
public static class EnrollCommand
{
    public const string TokenEnvironmentVariable = "FIM_JOIN_TOKEN";

    public static Command Create()
    {
        var url = new Option<string>("--nats-url") { Description = "NATS server URL(s), comma-separated.", Required = true };
        var tokenFile = new Option<string?>("--join-token-file") { Description = $"File holding the join token (a mounted Secret); or set {TokenEnvironmentVariable}." };
        var credsFile = new Option<string>("--creds-file") { Description = "Where to write the creds file (the agent's nats.credsFile).", Required = true };
        var agentId = new Option<string?>("--agent-id") { Description = "Agent id; default NODE_NAME, else the host name (as `run` resolves it)." };
        var caFile = new Option<string?>("--tls-ca-file") { Description = "CA bundle that verifies the NATS server (turns TLS on)." };
        var force = new Option<bool>("--force") { Description = "Enroll again with a new key even if the creds file exists." };
        var logLevel = new Option<string>("--log-level") { Description = "Log level (verbose, debug, information, warning, error).", DefaultValueFactory = _ => "information" };
        var command = new Command("enroll", "Enroll this host: generate its NKey, get its NATS identity from a manager with a join token, write a creds file.")
        {
            url, tokenFile, credsFile, agentId, caFile, force, logLevel,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, parse.GetValue(tokenFile), parse.GetValue(credsFile)!, parse.GetValue(agentId),
            parse.GetValue(caFile), parse.GetValue(force), parse.GetValue(logLevel)!, ct));
        return command;
    }

    private static async Task<int> RunAsync(string url, string? tokenFile, string credsFile, string? agentId, string? caFile, bool force, string logLevel,
        CancellationToken ct)
    {
        if (!Enum.TryParse<Serilog.Events.LogEventLevel>(logLevel, true, out var level))
        {
            throw new AgentException(ExitCodes.InvalidArgument, $"--log-level: unknown level '{logLevel}'");
        }
        using var serilog = new LoggerConfiguration().MinimumLevel.Is(level)
            .WriteTo.Console(new RenderedCompactJsonFormatter(), standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose).CreateLogger();
        using var loggers = new SerilogLoggerFactory(serilog);
        var log = loggers.CreateLogger("fim-agent enroll");

        var id = AgentIdentity.ResolveId(agentId, Environment.GetEnvironmentVariable, Environment.MachineName);
        if (!Subjects.IsValidAgentId(id))
        {
            throw new AgentException(ExitCodes.InvalidArgument, $"--agent-id: '{id}' is not a valid agent id ([a-z0-9_-]{{1,128}})");
        }
        if (!force && File.Exists(credsFile) && NatsJwt.ReadCredsJwt(await File.ReadAllTextAsync(credsFile, ct)) is { } existing && IssuedFor(existing) == id)
        {
            log.LogInformation("{CredsFile} already holds the identity of agent {AgentId}; nothing to do (--force enrolls a new key)", credsFile, id);
            return ExitCodes.NoChanges;
        }
        var token = ReadToken(tokenFile);
        var key = KeyPair.CreatePair(PrefixByte.User);
        log.LogInformation("Enrolling agent {AgentId} with key {PublicKey} at {Url} ({Token})", id, key.GetPublicKey(), SecretMasking.MaskUrl(url), token.ToString());
        string jwt;
        try
        {
            jwt = await EnrollmentClient.EnrollAsync(new NatsClientOptions { Url = url, Name = $"fim-agent enroll {id}", TlsCaFile = caFile }, token, id, key, loggers, ct);
        }
        catch (EnrollmentException e)
        {
            throw new AgentException(ExitCodes.EnrollmentRefused, e.Message, e);
        }
        WritePrivate(credsFile, NatsJwt.CredsFile(jwt, key.GetSeed()));
        log.LogInformation("Enrolled agent {AgentId}; creds written to {CredsFile} (set nats.credsFile to it)", id, credsFile);
        return ExitCodes.NoChanges;
    }

    private static JoinToken ReadToken(string? tokenFile)
    {
        string text;
        if (!string.IsNullOrEmpty(tokenFile))
        {
            try
            {
                text = File.ReadAllText(tokenFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new AgentException(ExitCodes.InvalidArgument, $"--join-token-file {tokenFile}: {e.Message}", e);
            }
        }
        else
        {
            text = Environment.GetEnvironmentVariable(TokenEnvironmentVariable)
                ?? throw new AgentException(ExitCodes.InvalidArgument, $"no join token: give --join-token-file or set {TokenEnvironmentVariable}");
        }
        try
        {
            return JoinToken.Parse(text);
        }
        catch (FormatException e)
        {
            throw new AgentException(ExitCodes.InvalidArgument, $"join token{(tokenFile is null ? "" : $" in {tokenFile}")}: {e.Message}", e);
        }
    }

    private static string? IssuedFor(string jwt)
    {
        try
        {
            return NatsJwt.DecodeVerified(jwt)["name"]?.GetValue<string>();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Written to a temporary file created 0600 and renamed: the seed is never readable by others, not even briefly.</summary>
    private static void WritePrivate(string path, string text)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        using (var stream = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
