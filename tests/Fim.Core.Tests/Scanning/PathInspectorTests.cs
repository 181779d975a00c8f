using System.Security.Cryptography;
using System.Text;
using Fim.Core.Events;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Scanning;

namespace Fim.Core.Tests.Scanning;

/// <summary>The live query's view of one path: only inside the policy's scope, hashed by the policy's own rule.</summary>
public sealed class PathInspectorTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "fim-inspect-" + Guid.NewGuid().ToString("N")[..8]);

    public PathInspectorTests() => Directory.CreateDirectory(Path.Combine(_root, "tree", "sub"));

    public void Dispose() => Directory.Delete(_root, true);

    private PathInspector Inspector(string extra = "") =>
        new(PolicyCompiler.Compile(PolicyLoader.LoadYaml($"name: t\npaths:\n  - path: {_root}/tree\n{extra}", "policy.yaml")));

    private static byte[] B(string path) => Encoding.UTF8.GetBytes(path);

    [Fact]
    public void A_file_is_stat_and_hashed_a_missing_one_is_absent_and_one_outside_the_roots_is_out_of_scope()
    {
        var file = Path.Combine(_root, "tree", "sub", "a.conf");
        File.WriteAllText(file, "hello\n");
        var inspector = Inspector();

        var present = inspector.Inspect(B(file));
        Assert.Equal(InspectionOutcome.Present, present.Outcome);
        var state = EventRecords.StateOf(present.Record!);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))), state.Sha256);
        Assert.Equal(6, state.Size);

        Assert.Equal(InspectionOutcome.Absent, inspector.Inspect(B(Path.Combine(_root, "tree", "sub", "gone"))).Outcome);
        Assert.Equal(InspectionOutcome.Absent, inspector.Inspect(B(Path.Combine(_root, "tree", "nodir", "gone"))).Outcome);
        File.WriteAllText(Path.Combine(_root, "outside"), "secret");
        Assert.Equal(InspectionOutcome.OutOfScope, inspector.Inspect(B(Path.Combine(_root, "outside"))).Outcome);
        Assert.Equal(InspectionOutcome.OutOfScope, inspector.Inspect(B(Path.Combine(_root, "tree", "..", "outside"))).Outcome);
        Assert.Equal(InspectionOutcome.OutOfScope, inspector.Inspect(B(Path.Combine(_root, "tree", ".", "sub", "a.conf"))).Outcome);
    }

    [Fact]
    public void A_symlinked_directory_below_the_root_is_not_followed_out_of_the_tree()
    {
        File.WriteAllText(Path.Combine(_root, "outside"), "secret");
        Directory.CreateSymbolicLink(Path.Combine(_root, "tree", "escape"), _root);
        Assert.Equal(InspectionOutcome.OutOfScope, Inspector().Inspect(B(Path.Combine(_root, "tree", "escape", "outside"))).Outcome);
    }

    [Fact]
    public void Files_larger_than_the_rules_maxFileSize_are_recorded_without_reading_their_content()
    {
        var big = Path.Combine(_root, "tree", "big.bin");
        File.WriteAllBytes(big, new byte[4096]);
        var result = Inspector("    maxFileSize: 1Ki\n").Inspect(B(big));
        Assert.Equal(InspectionOutcome.Present, result.Outcome);
        Assert.Equal(HashStatus.TooLarge, result.Record!.HashStatus);
        Assert.Null(EventRecords.StateOf(result.Record).Sha256);
        Assert.Equal(4096, result.Record.Size);
    }

    [Fact]
    public void Excluded_paths_are_out_of_scope()
    {
        var file = Path.Combine(_root, "tree", "sub", "x.swp");
        File.WriteAllText(file, "x");
        Assert.Equal(InspectionOutcome.OutOfScope, Inspector("    exclude: ['*.swp']\n").Inspect(B(file)).Outcome);
    }
}
