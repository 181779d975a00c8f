using System.Text;

namespace Fim.Core.Policy;

/// <summary>
/// Reads a policy file (YAML, or JSON, which YAML includes) into a <see cref="PolicySpec"/>. Every failure is a
/// <see cref="PolicyException"/> naming the file, line, column and field. Validation of the values is
/// <see cref="PolicyCompiler"/>'s job; this only guarantees that keys are known and values have the right types.
/// </summary>
public static class PolicyLoader
{
    /// <summary>Policies are small; the cap keeps a mistaken path (a log, /dev/zero) from being read whole.</summary>
    public const int MaxFileBytes = 4 * 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static PolicySpec LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return LoadYaml(ReadText(path), path);
    }

    public static PolicySpec LoadYaml(string yaml, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(sourceName);
        var root = YamlDocumentReader.Read(yaml, sourceName);
        switch (root)
        {
            case null or DocScalar { IsNull: true }:
                throw new PolicyException(sourceName, new PolicyProblem(null, "the policy is empty; it needs at least 'paths'", root?.Line, root?.Column));
            case DocMapping mapping:
                var positions = new PolicySourceMap(sourceName);
                var spec = PolicyBinder.Bind(mapping, positions, PolicyModelJson.Default.PolicySpec);
                PolicySourceMap.Attach(spec, positions);
                return spec;
            default:
                var found = root is DocSequence ? "a list" : "a single value";
                throw new PolicyException(sourceName, new PolicyProblem(
                    null,
                    $"the top level of a policy must be a mapping of keys ({string.Join(", ", BindableProperties.Of(typeof(PolicySpec)).Keys)}), got {found}",
                    root.Line,
                    root.Column));
        }
    }

    private static string ReadText(string path)
    {
        byte[] bytes;
        try
        {
            if (Directory.Exists(path))
            {
                throw Unreadable(path, "it is a directory, not a file");
            }
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            bytes = ReadAtMost(stream, MaxFileBytes + 1);
        }
        catch (FileNotFoundException e)
        {
            throw Unreadable(path, "the file does not exist", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw Unreadable(path, "the file does not exist (nor does its directory)", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Unreadable(path, "permission denied", e);
        }
        catch (Exception e) when (e is IOException or ArgumentException or NotSupportedException)
        {
            throw Unreadable(path, e.Message, e);
        }
        if (bytes.Length > MaxFileBytes)
        {
            throw Unreadable(path, $"it is larger than {MaxFileBytes / (1024 * 1024)} MiB, which no policy needs");
        }
        try
        {
            var skip = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
            return StrictUtf8.GetString(bytes, skip, bytes.Length - skip);
        }
        catch (DecoderFallbackException e)
        {
            throw Unreadable(path, $"it is not UTF-8 text (bad byte at offset {e.Index})", e);
        }
    }

    private static byte[] ReadAtMost(Stream stream, int limit)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while (buffer.Length < limit && (read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, limit - buffer.Length))) > 0)
        {
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static PolicyException Unreadable(string path, string reason, Exception? inner = null) =>
        new(path, new PolicyProblem(null, $"cannot read the policy file: {reason}"), inner);
}
