namespace Fim.Testing;

/// <summary>A throwaway CA and certificates made with openssl, for TLS to NATS in tests.</summary>
public sealed class TestCertificates : IDisposable
{
    private TestCertificates(string dir) => Dir = dir;

    public string Dir { get; }
    public string CaCert => Path.Combine(Dir, "ca.pem");
    public string ServerCert => Path.Combine(Dir, "server.pem");
    public string ServerKey => Path.Combine(Dir, "server-key.pem");

    /// <summary>
    /// nats-server's tls block for this CA with mutual TLS, the client certificate's SAN being the NATS user
    /// (verify_and_map), as the chart configures the bundled server.
    /// </summary>
    public string NatsServerTls => $$"""
        tls {
          cert_file: "{{ServerCert}}"
          key_file: "{{ServerKey}}"
          ca_file: "{{CaCert}}"
          verify_and_map: true
          # The handshake's deadline, generous: the default fails TLS logins on a saturated machine.
          timeout: 10
        }
        """;

    public static TestCertificates Create()
    {
        var dir = Path.Combine(Path.GetTempPath(), "fim-certs-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        var certs = new TestCertificates(dir);
        certs.OpenSsl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=fim-test-ca", "-keyout", Path.Combine(dir, "ca-key.pem"), "-out", certs.CaCert);
        certs.Issue("server", "127.0.0.1", ip: true);
        return certs;
    }

    /// <summary>Issues a certificate whose SAN is <paramref name="san"/> (a DNS name such as agent-a.agents.fim, or an IP).</summary>
    public (string Cert, string Key) Issue(string name, string san, bool ip = false)
    {
        var key = Path.Combine(Dir, $"{name}-key.pem");
        var csr = Path.Combine(Dir, $"{name}.csr");
        var cert = Path.Combine(Dir, $"{name}.pem");
        var ext = Path.Combine(Dir, $"{name}.ext");
        File.WriteAllText(ext, $"subjectAltName={(ip ? "IP" : "DNS")}:{san}\nextendedKeyUsage=serverAuth,clientAuth\n");
        OpenSsl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", $"/CN={san}", "-keyout", key, "-out", csr);
        OpenSsl("x509", "-req", "-in", csr, "-CA", CaCert, "-CAkey", Path.Combine(Dir, "ca-key.pem"), "-CAcreateserial",
            "-days", "2", "-extfile", ext, "-out", cert);
        return (cert, key);
    }

    private void OpenSsl(params string[] args) => ChildProcess.Run("openssl", args).EnsureSuccess();

    public void Dispose()
    {
        try
        {
            Directory.Delete(Dir, true);
        }
        catch (IOException)
        {
        }
    }
}
