namespace Fim.Testing;

/// <summary>
/// A real rsyslogd (Debian's package; never the system service) receiving RFC 5425 syslog over TLS on a loopback
/// port (imtcp with the gtls driver, the server certificate of <see cref="TestCertificates"/>), writing each message as
/// one line "PRI HOSTNAME APP-NAME MSGID MSG" to <see cref="OutputFile"/>. Killed with the test.
/// </summary>
public sealed class Rsyslogd : IDisposable
{
    private readonly ChildProcess _process;

    private Rsyslogd(ChildProcess process, string dir, int port)
    {
        _process = process;
        Dir = dir;
        Port = port;
    }

    public string Dir { get; }
    public int Port { get; }
    public string OutputFile => Path.Combine(Dir, "received.log");
    public string Output => _process.Output;

    public static async Task<Rsyslogd> StartAsync(TestCertificates certs)
    {
        var dir = Path.Combine(Path.GetTempPath(), "fim-rsyslog-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        var port = TestPorts.Next();
        var config = Path.Combine(dir, "rsyslog.conf");
        File.WriteAllText(config, $$"""
            global(workDirectory="{{dir}}" maxMessageSize="1m"
                   DefaultNetstreamDriver="gtls"
                   DefaultNetstreamDriverCAFile="{{certs.CaCert}}"
                   DefaultNetstreamDriverCertFile="{{certs.ServerCert}}"
                   DefaultNetstreamDriverKeyFile="{{certs.ServerKey}}")
            module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
            input(type="imtcp" port="{{port}}" address="127.0.0.1")
            template(name="fields" type="string" string="%pri% %hostname% %app-name% %msgid% %msg%\n")
            action(type="omfile" file="{{Path.Combine(dir, "received.log")}}" template="fields")
            """);
        var process = new ChildProcess("/usr/sbin/rsyslogd", ["-n", "-f", config, "-i", Path.Combine(dir, "rsyslogd.pid")], name: "rsyslogd");
        var server = new Rsyslogd(process, dir, port);
        await Eventually.TrueAsync(() =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"rsyslogd exited: {process.Output}");
            }
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                probe.Connect("127.0.0.1", port);
                return true;
            }
            catch (System.Net.Sockets.SocketException)
            {
                return false;
            }
        }, () => $"rsyslogd listening on 127.0.0.1:{port}\n{process.Output}");
        return server;
    }

    /// <summary>The lines received so far.</summary>
    public IReadOnlyList<string> Lines()
    {
        try
        {
            using var stream = new FileStream(OutputFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (FileNotFoundException)
        {
            return [];
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
