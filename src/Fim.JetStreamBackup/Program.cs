using Fim.Contracts;
using Fim.JetStreamBackup;
using Fim.Nats;
using NATS.Client.Core;

// fim-js-backup snapshot|restore --url <nats-url> --dir <directory> [--stream NAME]... (default: every FIM stream)
//   [--ca-file f --cert-file f --key-file f] [--user u --password-file f | --nkey-file f | --creds-file f] [--timeout 600]
// Credentials are read from files or the environment (FIM_NATS_PASSWORD), never printed.
const string Usage = "usage: fim-js-backup snapshot|restore --url <nats-url> --dir <directory> [--stream NAME]... "
    + "[--ca-file F] [--cert-file F] [--key-file F] [--user U --password-file F | --nkey-file F | --creds-file F] [--timeout SECONDS]";

if (args.Length == 0 || args[0] is not ("snapshot" or "restore"))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var command = args[0];
var streams = new List<string>();
string? url = null, dir = null, ca = null, cert = null, key = null, user = null, passwordFile = null, nkeyFile = null, credsFile = null;
var timeout = TimeSpan.FromMinutes(10);
for (var i = 1; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    try
    {
        switch (args[i])
        {
            case "--url": url = Next(); break;
            case "--dir": dir = Next(); break;
            case "--stream": streams.Add(Next()); break;
            case "--ca-file": ca = Next(); break;
            case "--cert-file": cert = Next(); break;
            case "--key-file": key = Next(); break;
            case "--user": user = Next(); break;
            case "--password-file": passwordFile = Next(); break;
            case "--nkey-file": nkeyFile = Next(); break;
            case "--creds-file": credsFile = Next(); break;
            case "--timeout":
                timeout = int.TryParse(Next(), out var s) && s > 0 ? TimeSpan.FromSeconds(s) : throw new ArgumentException("--timeout: a positive number of seconds");
                break;
            default: throw new ArgumentException($"unknown option '{args[i]}'");
        }
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine($"fim-js-backup: {e.Message}\n{Usage}");
        return 2;
    }
}

if (url is null || dir is null)
{
    Console.Error.WriteLine($"fim-js-backup: --url and --dir are required\n{Usage}");
    return 2;
}
// Without --stream: every FIM stream, skipping one the server (snapshot) or the directory (restore) does not hold,
// so one schedule covers installs with and without scan records. A stream named with --stream must be there.
var everyStream = streams.Count == 0;
if (everyStream)
{
    streams.AddRange([Subjects.EventsStream, Subjects.AlertsStream, Subjects.ScansStream, Subjects.DeadLetterStream]);
}

var nats = new NatsClientOptions
{
    Url = url,
    Name = "fim-js-backup",
    TlsCaFile = ca,
    TlsCertFile = cert,
    TlsKeyFile = key,
    User = user,
    PasswordFile = user is not null ? passwordFile : null,
    Password = user is not null && passwordFile is null ? Environment.GetEnvironmentVariable("FIM_NATS_PASSWORD") : null,
    NKeySeedFile = nkeyFile,
    CredsFile = credsFile,
};
var problems = NatsOptionsValidator.Validate(nats, new NatsOptionNames(
    Url: "--url", TlsCaFile: "--ca-file", TlsCertFile: "--cert-file", TlsKeyFile: "--key-file", User: "--user",
    Password: "FIM_NATS_PASSWORD", PasswordFile: "--password-file", Token: "--token", TokenFile: "--token-file",
    NKeySeedFile: "--nkey-file", CredsFile: "--creds-file"));
if (problems.Count > 0)
{
    Console.Error.WriteLine(string.Join('\n', problems.Select(p => $"fim-js-backup: {p}")));
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
try
{
    // A backup is a one-shot job: wait for NATS at most the timeout, then fail.
    using var connectDeadline = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
    connectDeadline.CancelAfter(timeout);
    await using var connection = await NatsConnectionFactory.ConnectAsync(nats, null, connectDeadline.Token);
    var done = 0;
    foreach (var stream in streams)
    {
        if (everyStream && (command == "snapshot"
            ? !await StreamSnapshots.ExistsAsync(connection, stream, cts.Token)
            : !File.Exists(Path.Combine(dir, stream + ".json"))))
        {
            Console.WriteLine($"{stream}: not {(command == "snapshot" ? "on the server" : "in " + dir)}, skipped");
            continue;
        }
        done++;
        if (command == "snapshot")
        {
            var meta = await StreamSnapshots.SnapshotToDirectoryAsync(connection, stream, dir, timeout, cts.Token);
            Console.WriteLine($"{stream}: snapshot of {meta.State["messages"]} messages, {meta.Bytes} bytes in {meta.Chunks} chunks -> {dir}");
        }
        else
        {
            var state = await StreamSnapshots.RestoreFromDirectoryAsync(connection, stream, dir, timeout, cts.Token);
            Console.WriteLine($"{stream}: restored {state["messages"]} messages (first seq {state["first_seq"]}, last seq {state["last_seq"]})");
        }
    }
    if (done == 0)
    {
        Console.Error.WriteLine($"fim-js-backup: {command}: none of {string.Join(", ", streams)} {(command == "snapshot" ? "is on the server" : "is in " + dir)}");
        return 1;
    }
    return 0;
}
catch (Exception e) when (e is IOException or InvalidDataException or NatsException or OperationCanceledException or UnauthorizedAccessException or NatsLoginException)
{
    Console.Error.WriteLine($"fim-js-backup: {command} failed: {e.Message}");
    return 1;
}
