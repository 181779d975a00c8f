using System.Security.Cryptography;
using Fim.Core.Baseline;
using Fim.Core.Content;
using Fim.Core.Model;
using Fim.Core.Policy;
using Fim.Core.Scanning;

namespace Fim.Core.Tests.Content;

/// <summary>A monitored temp tree, a state directory with a key, and scan-refine-commit cycles over an in-memory baseline.</summary>
public sealed class ContentFixture : IDisposable
{
    private readonly BaselineKey _key = BaselineKey.FromBytes(RandomNumberGenerator.GetBytes(BaselineKey.KeySize));

    public ContentFixture()
    {
        Base = Path.Combine(Path.GetTempPath(), "fim-content-" + Guid.NewGuid().ToString("N")[..12]);
        Root = Path.Combine(Base, "tree");
        StateDir = Path.Combine(Base, "state");
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(StateDir);
    }

    public string Base { get; }

    public string Root { get; }

    public string StateDir { get; }

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

    /// <summary>A policy over the tree, compiled from YAML-equivalent settings so defaults (nodiff globs) apply.</summary>
    public CompiledPolicy Policy(bool reportDiffs = true, IEnumerable<string>? check = null, DiffsSpec? diffs = null) =>
        PolicyCompiler.Compile(new PolicySpec
        {
            Name = "test",
            Paths = [new PathRule { Path = Root, ReportDiffs = reportDiffs, Check = [.. check ?? []] }],
            Diffs = diffs ?? new DiffsSpec(),
        });

    public ContentTracker Tracker(CompiledPolicy policy) => ContentTracker.Open(policy, StateDir, _key);

    /// <summary>One scan of the tree, refined, committed to the baseline, then the copies and checkpoints written.</summary>
    public IReadOnlyList<FileChange> Cycle(CompiledPolicy policy, ContentTracker tracker, bool verifyAll = false) =>
        Cycle(policy, tracker, out _, verifyAll);

    /// <summary><see cref="Cycle(CompiledPolicy, ContentTracker, bool)"/>, also giving the bytes the scanner hashed.</summary>
    public IReadOnlyList<FileChange> Cycle(CompiledPolicy policy, ContentTracker tracker, out long bytesHashed, bool verifyAll = false)
    {
        var result = new Scanner(policy, new ScanOptions { RecordOnly = Baseline.Count == 0, VerifyFull = verifyAll }).Scan(Baseline);
        var refined = tracker.Refine(result.Changes, result.Updates, verifyAll);
        Baseline.Apply(result.Updates);
        refined.Complete();
        bytesHashed = result.Stats.BytesHashed;
        return refined.Changes;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Base, true);
        }
        catch (IOException)
        {
        }
    }
}
