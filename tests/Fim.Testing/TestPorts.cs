using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Fim.Testing;

/// <summary>
/// TCP ports for servers that tests start. A port the kernel hands out for an ephemeral bind and that is then closed
/// can be taken again as the source port of any outgoing connection before the server binds it ("address already in
/// use" under load), so ports come from below the kernel's ephemeral range, where no connect() ever lands. Each port
/// is claimed with an exclusive lock file held for this process's life, so parallel test processes never share one.
/// </summary>
public static class TestPorts
{
    private static readonly Lock Gate = new();
    private static readonly List<FileStream> Claims = [];
    private static readonly string ClaimDir = Path.Combine(Path.GetTempPath(), "fim-test-ports");
    private static readonly (int Low, int High) Range = PrivateRange();
    private static int _next = Range.Low + Random.Shared.Next(Range.High - Range.Low);

    public static int Next()
    {
        lock (Gate)
        {
            Directory.CreateDirectory(ClaimDir);
            for (var tries = 0; tries < Range.High - Range.Low; tries++)
            {
                var port = _next;
                _next = _next + 1 >= Range.High ? Range.Low : _next + 1;
                if (TryClaim(port) is { } claim)
                {
                    if (IsFree(port))
                    {
                        Claims.Add(claim);
                        return port;
                    }
                    claim.Dispose();
                }
            }
            throw new InvalidOperationException($"no free port between {Range.Low} and {Range.High}");
        }
    }

    private static FileStream? TryClaim(int port)
    {
        try
        {
            // FileShare.None takes an exclusive advisory lock on Unix; the kernel drops it when this process exits.
            return new FileStream(Path.Combine(ClaimDir, $"{port}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var l = new TcpListener(IPAddress.Any, port);
            l.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Ports outside the kernel's ephemeral range (net.ipv4.ip_local_port_range): below it down to 10000, else above it.</summary>
    private static (int, int) PrivateRange()
    {
        var (low, high) = (32768, 60999);
        try
        {
            var fields = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            (low, high) = (int.Parse(fields[0], CultureInfo.InvariantCulture), int.Parse(fields[1], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
        }
        return low - 10000 >= 1000 ? (10000, low)
            : 65535 - high >= 1000 ? (high + 1, 65536)
            : throw new InvalidOperationException($"the ephemeral port range {low}-{high} leaves no room for test servers");
    }
}
