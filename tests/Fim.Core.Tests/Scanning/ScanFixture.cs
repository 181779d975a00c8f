using System.Text;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Scanning;

namespace Fim.Core.Tests.Scanning;

/// <summary>A temp tree plus a scanner over it with an in-memory baseline.</summary>
public sealed class ScanFixture : IDisposable
{
    public ScanFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), "fim-core-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public InMemoryBaseline Baseline { get; } = new();

    public string P(string relative) => Path.Combine(Root, relative);

    public byte[] B(string relative) => PathBytes.FromString(P(relative));

    public string Write(string relative, string content)
    {
        var path = P(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public CompiledPolicy Policy(Func<CompiledPathRule, CompiledPathRule>? edit = null)
    {
        var rule = new CompiledPathRule { Root = PathBytes.FromString(Root) };
        return new CompiledPolicy { Name = "test", Rules = [edit?.Invoke(rule) ?? rule] };
    }

    public ScanResult Scan(ScanOptions? options = null, CompiledPolicy? policy = null)
    {
        var result = new Scanner(policy ?? Policy(), options).Scan(Baseline);
        Baseline.Apply(result.Updates);
        return result;
    }

    public FileRecord Record(string relative) =>
        Baseline.TryGet(B(relative), out var r) ? r : throw new Xunit.Sdk.XunitException($"{relative} is not in the baseline");

    public static void Sh(string file, params string[] args) => Fim.Testing.ChildProcess.Run(file, args).EnsureSuccess();

    public static string Hex(byte[]? b) => b is null ? "null" : Convert.ToHexStringLower(b);

    public static string Sha256(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, true);
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            // .NET cannot delete below PATH_MAX; rm can.
            Sh("rm", "-rf", Root);
        }
    }
}
