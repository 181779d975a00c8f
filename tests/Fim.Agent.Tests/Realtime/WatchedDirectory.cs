using Fim.Core.Model;
using Fim.Testing;

namespace Fim.Agent.Tests.Realtime;

/// <summary>A temp directory tree; removed with rm -rf because it may hold names .NET cannot represent.</summary>
internal sealed class WatchedDirectory : IDisposable
{
    public WatchedDirectory()
    {
        RootText = Path.Combine(Path.GetTempPath(), "fim-rt-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(RootText);
        Root = PathBytes.FromString(RootText);
    }

    public string RootText { get; }
    public byte[] Root { get; }

    public string PathOf(string relative) => Path.Combine(RootText, relative);

    public byte[] BytesOf(string relative) => PathBytes.FromString(PathOf(relative));

    public void Dispose() => ChildProcess.Run("rm", ["-rf", "--", RootText]).EnsureSuccess();
}
