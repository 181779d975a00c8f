using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Fim.Manager.Store;

/// <summary>
/// The keyset position of a row, (time, alert id), as an opaque token: base64url of "1:&lt;micros&gt;:&lt;alert id&gt;".
/// Clients pass it back unchanged; its content is not an API.
/// </summary>
public sealed record AlertCursor(long ObservedAtMicros, string AlertId)
{
    private const string Version = "1";

    public string Encode() =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{Version}:{ObservedAtMicros.ToString(CultureInfo.InvariantCulture)}:{AlertId}"));

    public static bool TryDecode(string token, out AlertCursor? cursor)
    {
        cursor = null;
        if (token.Length is 0 or > 2048)
        {
            return false;
        }
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(token);
        }
        catch (FormatException)
        {
            return false;
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        var parts = text.Split(':', 3);
        if (parts.Length != 3 || parts[0] != Version || parts[2].Length == 0
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var micros))
        {
            return false;
        }
        cursor = new AlertCursor(micros, parts[2]);
        return true;
    }
}
