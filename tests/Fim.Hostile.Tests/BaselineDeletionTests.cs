using Fim.Hostile.Tests.Support;

namespace Fim.Hostile.Tests;

/// <summary>
/// Case 1: `rm &lt;state&gt;/baseline.snap` and the next scan said "baseline recorded", exit 0: every change made before
/// was never reported. The agent now remembers, beside its key, which baseline exists; a missing, older or foreign one
/// is refused with exit 19 (the tampered-baseline code) until `--rebaseline` accepts a new one.
/// </summary>
public sealed class BaselineDeletionTests : IDisposable
{
    private const int BaselineRefused = 19;
    private readonly HostileAgent _agent = new();

    public void Dispose() => _agent.Dispose();

    [Fact]
    public void A_deleted_baseline_is_refused_and_the_change_made_before_is_not_lost()
    {
        File.WriteAllText(Path.Combine(_agent.Files, "passwd"), "root:x:0:0\n");
        Assert.Equal(0, _agent.ScanFiles().ExitCode);
        File.WriteAllText(Path.Combine(_agent.Files, "passwd"), "root:x:0:0\nevil:x:0:0\n");
        File.Delete(_agent.Snapshot);

        var refused = _agent.ScanFiles();

        Assert.True(refused.ExitCode == BaselineRefused, refused.ToString());
        Assert.Contains("it was deleted", refused.Stderr);
        Assert.Contains("--rebaseline", refused.Stderr);
        Assert.DoesNotContain("baseline recorded", refused.Output);
        Assert.False(File.Exists(_agent.Snapshot), "a refused scan must not record a new baseline");
        // Refused every time, not only once.
        Assert.Equal(BaselineRefused, _agent.ScanFiles().ExitCode);
    }

    [Fact]
    public void A_deleted_state_directory_is_refused_too()
    {
        File.WriteAllText(Path.Combine(_agent.Files, "f"), "a");
        Assert.Equal(0, _agent.ScanFiles().ExitCode);
        Directory.Delete(_agent.StateDir, recursive: true);

        var refused = _agent.ScanFiles();

        Assert.True(refused.ExitCode == BaselineRefused, refused.ToString());
        Assert.Contains("it was deleted", refused.Stderr);
    }

    [Fact]
    public void Rebaseline_accepts_a_new_baseline_after_a_deletion_and_says_the_old_one_was_discarded()
    {
        File.WriteAllText(Path.Combine(_agent.Files, "f"), "a");
        Assert.Equal(0, _agent.ScanFiles().ExitCode);
        File.Delete(_agent.Snapshot);
        Assert.Equal(BaselineRefused, _agent.ScanFiles().ExitCode);

        var rebaselined = _agent.ScanFiles("--rebaseline");

        Assert.True(rebaselined.ExitCode == 0, rebaselined.ToString());
        Assert.Contains("the previous baseline (generation 1", rebaselined.Stderr);
        Assert.Contains("baseline recorded", rebaselined.Stderr);
        var next = _agent.ScanFiles();
        Assert.True(next.ExitCode == 0, next.ToString());
    }

    [Fact]
    public void An_older_copy_of_the_baseline_is_refused_as_replayed()
    {
        var file = Path.Combine(_agent.Files, "sshd_config");
        File.WriteAllText(file, "PermitRootLogin no\n");
        Assert.Equal(0, _agent.ScanFiles().ExitCode);
        var saved = Path.Combine(_agent.Root, "saved-state");
        HostileAgent.CopyDirectory(_agent.StateDir, saved);
        File.WriteAllText(file, "PermitRootLogin yes\n");
        Assert.Equal(4, _agent.ScanFiles().ExitCode); // the change is reported and the baseline moves on
        HostileAgent.CopyDirectory(saved, _agent.StateDir); // the intruder puts the older, validly sealed copy back

        var refused = _agent.ScanFiles();

        Assert.True(refused.ExitCode == BaselineRefused, refused.ToString());
        Assert.Contains("older copy (generation 1", refused.Stderr);
        Assert.Contains("restored or replayed", refused.Stderr);
    }

    [Fact]
    public void A_baseline_copied_from_another_host_with_the_same_key_is_refused_as_foreign()
    {
        // A fleet sharing one key (a Kubernetes Secret): host B's state directory, host A's baseline copied over it.
        File.WriteAllText(Path.Combine(_agent.Files, "f"), "a");
        var hostA = Path.Combine(_agent.Root, "host-a-state");
        Assert.Equal(0, _agent.Scan([_agent.Files], stateDir: hostA).ExitCode);
        Assert.Equal(0, _agent.ScanFiles().ExitCode);
        HostileAgent.CopyDirectory(hostA, _agent.StateDir);

        var refused = _agent.ScanFiles();

        Assert.True(refused.ExitCode == BaselineRefused, refused.ToString());
        Assert.Contains("copied from another host or state directory", refused.Stderr);
    }

    [Fact]
    public void Rebaseline_without_any_baseline_records_one()
    {
        File.WriteAllText(Path.Combine(_agent.Files, "f"), "a");

        var first = _agent.ScanFiles("--rebaseline");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("baseline recorded", first.Stderr);
        Assert.DoesNotContain("previous baseline", first.Stderr);
        Assert.Equal(0, _agent.ScanFiles().ExitCode);
    }

    [Fact]
    public void Deleting_the_anchor_alone_re_anchors_the_baseline_and_a_later_deletion_is_still_refused()
    {
        File.WriteAllText(Path.Combine(_agent.Files, "f"), "a");
        Assert.Equal(0, _agent.ScanFiles().ExitCode);
        File.Delete(_agent.AnchorFile);

        Assert.Equal(0, _agent.ScanFiles().ExitCode); // the sealed baseline is still verified by the key
        Assert.True(File.Exists(_agent.AnchorFile));
        File.Delete(_agent.Snapshot);

        Assert.Equal(BaselineRefused, _agent.ScanFiles().ExitCode);
    }

    [Fact]
    public void Deleting_the_key_directory_and_the_state_is_a_fresh_install()
    {
        // Documented limit: whoever can delete the key directory can start over; it must be protected like the key.
        File.WriteAllText(Path.Combine(_agent.Files, "f"), "a");
        Assert.Equal(0, _agent.ScanFiles().ExitCode);
        Directory.Delete(Path.GetDirectoryName(_agent.KeyFile)!, recursive: true);
        Directory.Delete(_agent.StateDir, recursive: true);

        var fresh = _agent.ScanFiles();

        Assert.True(fresh.ExitCode == 0, fresh.ToString());
        Assert.Contains("baseline recorded", fresh.Stderr);
    }

    [Fact]
    public void A_tampered_anchor_is_refused_like_a_tampered_baseline()
    {
        File.WriteAllText(Path.Combine(_agent.Files, "f"), "a");
        Assert.Equal(0, _agent.ScanFiles().ExitCode);
        var text = File.ReadAllText(_agent.AnchorFile);
        File.WriteAllText(_agent.AnchorFile, text.Replace(" 1 ", " 9 ", StringComparison.Ordinal));

        var refused = _agent.ScanFiles();

        Assert.True(refused.ExitCode == BaselineRefused, refused.ToString());
        Assert.Contains("does not match its seal", refused.Stderr);
        Assert.Equal(0, _agent.ScanFiles("--rebaseline").ExitCode);
    }
}
