using System.Text;
using Fim.Testing;

namespace Fim.Contracts.Tests;

/// <summary>
/// Compares a payload's wire bytes with tests/Fim.Contracts.Tests/Golden/&lt;name&gt;.json (the same JSON, indented for
/// review). Set UPDATE_GOLDEN=1 to rewrite the files from the code instead: only for a deliberate change.
/// </summary>
public static class GoldenFile
{
    private static readonly string Folder = Repository.File("tests/Fim.Contracts.Tests/Golden");

    public static bool Updating => Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1";

    /// <summary>
    /// Asserts that <paramref name="indented"/> (the payload written by the same code with indentation) is the golden file
    /// byte for byte (newlines normalised), and that the file without its indentation is <paramref name="wire"/>, the
    /// bytes that travel. Returns the file's text.
    /// </summary>
    public static string Verify(string name, byte[] wire, byte[] indented)
    {
        var path = Path.Combine(Folder, name + ".json");
        var actual = Encoding.UTF8.GetString(indented).ReplaceLineEndings("\n") + "\n";
        if (Updating)
        {
            File.WriteAllText(path, actual);
        }
        Assert.True(File.Exists(path), $"{path} is missing. Create it from the code with: UPDATE_GOLDEN=1 dotnet test tests/Fim.Contracts.Tests");
        var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        if (expected != actual)
        {
            Assert.Fail($"""
                The {name} payload no longer matches {Path.GetRelativePath(Repository.Root, path)}.
                Other processes (agents, managers, the operator, log pipelines) read this JSON: a renamed, removed or
                retyped field breaks them silently. If the change is deliberate, make readers of the old form cope (or
                raise the schema version), then update the golden file and commit it:
                    UPDATE_GOLDEN=1 dotnet test tests/Fim.Contracts.Tests
                First difference at character {FirstDifference(expected, actual)}.
                expected:
                {expected}
                actual:
                {actual}
                """);
        }
        Assert.Equal(Encoding.UTF8.GetString(wire), WithoutIndentation(expected));
        return expected;
    }

    /// <summary>The JSON text with the whitespace between tokens removed; strings are kept byte for byte.</summary>
    private static string WithoutIndentation(string json)
    {
        var sb = new StringBuilder(json.Length);
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                sb.Append(c);
                if (c == '\\')
                {
                    sb.Append(json[++i]);
                }
                else if (c == '"')
                {
                    inString = false;
                }
            }
            else if (c == '"')
            {
                inString = true;
                sb.Append(c);
            }
            else if (!char.IsWhiteSpace(c))
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    private static int FirstDifference(string a, string b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            if (a[i] != b[i])
            {
                return i;
            }
        }
        return n;
    }
}
