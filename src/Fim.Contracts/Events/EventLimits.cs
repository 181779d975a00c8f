namespace Fim.Contracts;

/// <summary>
/// Bounds of a file event's fields, shared by whoever writes events and whoever reads them (the manager's validator,
/// the history API): one definition, so the API accepts every path the pipeline accepts.
/// </summary>
public static class EventLimits
{
    /// <summary>eventId is "&lt;agentId&gt;:&lt;bootId&gt;:&lt;seq&gt;" (at most 128 + 1 + 36 + 1 + 20); 256 leaves room.</summary>
    public const int MaxEventIdLength = 256;

    /// <summary>A host name (253 for DNS) with room to spare.</summary>
    public const int MaxHostLength = 256;

    /// <summary>"&lt;namespace&gt;/&lt;name&gt;": 63 + 1 + 253 for Kubernetes names.</summary>
    public const int MaxPolicyLength = 320;

    /// <summary>
    /// Characters of a path. Linux limits a path given to one system call to 4,096 bytes, but the agent walks with
    /// openat and records deeper paths; 32,768 bounds what a file tree can reasonably hold while keeping an event
    /// (path, its base64 bytes and a diff) far below the manager's 256 KiB event limit.
    /// </summary>
    public const int MaxPathLength = 32_768;

    /// <summary>The first C0/C1 control character (or DEL) in <paramref name="text"/>, or -1.</summary>
    public static int IndexOfControl(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsControl(text[i]))
            {
                return i;
            }
        }
        return -1;
    }
}
