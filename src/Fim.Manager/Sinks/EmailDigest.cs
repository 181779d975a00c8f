using System.Globalization;
using System.Text;
using Fim.Contracts;
using MimeKit;

namespace Fim.Manager.Sinks;

/// <summary>The mail of one digest: a subject that says how many and how bad, and one line per alert, highest level first.</summary>
public static class EmailDigest
{
    public static MimeMessage Compose(IReadOnlyList<Alert> alerts, string from, IEnumerable<string> to)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        foreach (var address in to)
        {
            message.To.Add(MailboxAddress.Parse(address));
        }
        var hosts = alerts.Select(a => a.Host).Distinct(StringComparer.Ordinal).Count();
        message.Subject = string.Create(CultureInfo.InvariantCulture,
            $"FIM: {alerts.Count} alert{(alerts.Count == 1 ? "" : "s")}, highest level {alerts.Max(a => a.Level)}, on {hosts} host{(hosts == 1 ? "" : "s")}");
        var body = new StringBuilder();
        foreach (var a in alerts.OrderByDescending(a => a.Level).ThenBy(a => a.ObservedAt))
        {
            // Control characters in paths and tool output are escaped: a mail body line must stay one line.
            var what = a.Record is { } r ? $"[{r.Format}] {r.Title}{(r.Resource is null ? "" : " " + r.Resource)}" : $"{a.Kind} {a.Path}";
            body.Append(CultureInfo.InvariantCulture, $"{a.ObservedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z  level {a.Level,2}  rule {a.Rule.Id}  {a.Host}  {Escape(what)}  ({a.AlertId})\n");
        }
        message.Body = new TextPart("plain") { Text = body.ToString() };
        return message;
    }

    private static string Escape(string text) => string.Concat(text.Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));
}
