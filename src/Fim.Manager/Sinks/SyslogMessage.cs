using System.Globalization;
using System.Text;
using Fim.Contracts;

namespace Fim.Manager.Sinks;

/// <summary>
/// One alert as an RFC 5424 message in RFC 6587 octet-counting framing: "LEN SP &lt;PRI&gt;1 TIMESTAMP HOSTNAME APP-NAME
/// - MSGID - MSG", the MSG being the alert's ECS JSON (one line: JSON escapes every control character).
/// </summary>
public static class SyslogMessage
{
    public const string MessageId = "fim-alert";

    /// <summary>RFC 5424 severity for a level (0-15): 12 and up critical, 10 error, 7 warning, 4 notice, below informational.</summary>
    public static int Severity(int level) => level switch
    {
        >= 12 => 2,
        >= 10 => 3,
        >= 7 => 4,
        >= 4 => 5,
        _ => 6,
    };

    public static byte[] Frame(Alert alert, int facility, string appName)
    {
        var header = string.Create(CultureInfo.InvariantCulture,
            $"<{facility * 8 + Severity(alert.Level)}>1 {alert.ObservedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ss.ffffffZ} {HostName(alert.Host)} {appName} - {MessageId} - ");
        var message = Encoding.UTF8.GetBytes(header).Concat(EcsAlert.ToUtf8(alert)).ToArray();
        var prefix = Encoding.ASCII.GetBytes(message.Length.ToString(CultureInfo.InvariantCulture) + " ");
        return [.. prefix, .. message];
    }

    /// <summary>HOSTNAME: printable US-ASCII without spaces, at most 255; "-" when there is none.</summary>
    public static string HostName(string host)
    {
        var clean = new string([.. host.Where(c => c is > ' ' and <= '~').Take(255)]);
        return clean.Length == 0 ? "-" : clean;
    }
}
