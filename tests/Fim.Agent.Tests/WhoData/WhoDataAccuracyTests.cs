using System.Text.Json;
using Fim.Agent.Tests.Support;
using Fim.Testing;
using Xunit.Abstractions;

namespace Fim.Agent.Tests.WhoData;

/// <summary>
/// Issue 13, acceptance 1 and 5, with the real agent, the real kernel (fanotify, eBPF) and real writers under
/// different uids. Each writer writes its own pid ($$) into the file, so the test knows which process wrote what.
/// </summary>
[Collection(WhoDataCollection.Name)]
public sealed class WhoDataAccuracyTests(ITestOutputHelper output) : IDisposable
{
    private static readonly uint[] Uids = [0, 2001, 2002, 2003, 2004];
    private readonly TempTree _t = new("who");

    [Fact]
    public async Task A_thousand_writes_by_short_lived_processes_under_different_uids_name_the_right_writer()
    {
        var files = Enumerable.Range(0, 1000).Select(i => $"f{i}").ToList();
        Prepare(files);
        using var agent = StartAgent();
        agent.AwaitLog("realtime detection on", TimeSpan.FromSeconds(60));
        Assert.Contains("who-data for policy", agent.Stderr);
        Assert.Contains("fanotify-ebpf", agent.Stderr);

        // One driver runs the writers one after another: each is a /bin/sh exec'd by setpriv under its uid, which
        // appends its own pid and exits at once.
        var script = WriteScript("""
            dir=$1; i=0
            while [ $i -lt 1000 ]; do
              case $((i % 5)) in 0) u=0;; 1) u=2001;; 2) u=2002;; 3) u=2003;; *) u=2004;; esac
              setpriv --reuid=$u --regid=$u --clear-groups /bin/sh -c 'echo $$ >> "$1"' sh "$dir/f$i"
              i=$((i + 1))
            done
            """);
        ChildProcess.Run("/bin/sh", [script, _t.Tree], timeout: TimeSpan.FromMinutes(3)).EnsureSuccess();

        var result = await JudgeAsync(agent, files, i => Uids[i % 5]);
        output.WriteLine($"short-lived writers: {result}");
        Assert.True(result.Missing == 0, $"{result.Missing} writes were not reported: {result}");
        Assert.True(result.Wrong == 0, $"wrong writers named: {result}\n{string.Join("\n", result.WrongSamples)}");
        Assert.True(result.Unknown <= files.Count / 100, $"more than 1% unknown: {result}");
    }

    [Fact]
    public async Task A_thousand_writes_by_ten_long_lived_processes_name_the_right_writer()
    {
        var files = Enumerable.Range(0, 1000).Select(i => $"g{i / 100}_{i % 100}").ToList();
        Prepare(files);
        using var agent = StartAgent();
        agent.AwaitLog("realtime detection on", TimeSpan.FromSeconds(60));

        var script = WriteScript("""
            dir=$1; k=$2
            j=0
            while [ $j -lt 100 ]; do echo $$ >> "$dir/g${k}_$j"; j=$((j + 1)); done
            sleep 60
            """);
        var writers = Enumerable.Range(0, 10).Select(k =>
        {
            var uid = Uids[k % 5];
            // The sleep keeps the writer alive until the test ends: a long-lived writer.
            return new ChildProcess("setpriv", [$"--reuid={uid}", $"--regid={uid}", "--clear-groups", "/bin/sh", script, _t.Tree, k.ToString()], name: $"writer{k}");
        }).ToList();
        try
        {
            var result = await JudgeAsync(agent, files, i => Uids[i / 100 % 5], expectedExe: null);
            output.WriteLine($"long-lived writers: {result}");
            Assert.True(result.Missing == 0, $"{result.Missing} writes were not reported: {result}");
            Assert.True(result.Wrong == 0, $"wrong writers named: {result}\n{string.Join("\n", result.WrongSamples)}");
            Assert.True(result.Unknown <= files.Count / 100, $"more than 1% unknown: {result}");
        }
        finally
        {
            writers.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public async Task The_writer_is_named_when_a_child_that_inherited_the_descriptor_closes_the_file_last()
    {
        Prepare(["shared.log"]);
        using var agent = StartAgent();
        agent.AwaitLog("realtime detection on", TimeSpan.FromSeconds(60));
        // The shell opens the file, starts a child that inherits the descriptor and waits on a FIFO, writes its pid and
        // closes its own descriptor; the child, released, exits and drops the last reference: the kernel reports the
        // close (FAN_CLOSE_WRITE) for the child, a process that never wrote.
        var fifo = Path.Combine(_t.Root, "release");
        ChildProcess.Run("mkfifo", [fifo]).EnsureSuccess();
        var script = WriteScript("""
            exec 3>>"$1"
            sh -c 'read x < "$1"' child "$2" &
            echo $$ >&3
            exec 3>&-
            echo go > "$2"
            wait
            """);
        ChildProcess.Run("/bin/sh", [script, _t["shared.log"], fifo], timeout: TimeSpan.FromMinutes(1)).EnsureSuccess();

        var result = await JudgeAsync(agent, ["shared.log"], _ => 0);
        Assert.True(result.Right == 1, $"the shell that wrote must be named, not the child that closed last: {result}\n{string.Join("\n", result.WrongSamples)}");
    }

    [Fact]
    public async Task Without_cap_sys_admin_the_agent_runs_on_inotify_says_so_and_names_nobody()
    {
        _t.Write("a.conf", "a\n");
        var port = TestPorts.Next();
        // Root without CAP_SYS_ADMIN, CAP_BPF and CAP_PERFMON: as a container runtime would start the agent without them.
        using var agent = new ChildProcess("setpriv",
            ["--bounding-set=-sys_admin,-bpf,-perfmon", "--inh-caps=-sys_admin,-bpf,-perfmon", "--", ChildProcess.DotnetHost, CliRunner.AgentDll,
             "watch", _t.Tree, "--json", "--metrics-listen", $"127.0.0.1:{port}", .. _t.StateArgs],
            new Dictionary<string, string> { ["NO_COLOR"] = "1" }, name: "fim-agent");
        agent.AwaitLog("realtime detection on", TimeSpan.FromSeconds(60));
        var choice = agent.StderrLines.Select(l => JsonDocument.Parse(l).RootElement)
            .Single(l => l.GetProperty("@m").GetString()!.StartsWith("who-data for policy", StringComparison.Ordinal));
        Assert.Equal("Warning", choice.GetProperty("@l").GetString());
        Assert.Equal("inotify", choice.GetProperty("Source").GetString());
        Assert.Contains("need CAP_SYS_ADMIN", choice.GetProperty("Reason").GetString());

        ChildProcess.Run("/bin/sh", ["-c", "echo b >> \"$1\"", "sh", _t["a.conf"]]).EnsureSuccess();
        agent.AwaitOutput((stdout, _) => stdout.Any(l => l.Contains("a.conf", StringComparison.Ordinal)), () => "the alert for a.conf", TimeSpan.FromSeconds(30));
        var alert = JsonDocument.Parse(agent.StdoutLines.First(l => l.Contains("a.conf", StringComparison.Ordinal))).RootElement;
        Assert.Equal("realtime", alert.GetProperty("source").GetString());
        Assert.False(alert.TryGetProperty("actor", out _), "an inotify event must carry no actor, not a guessed one");

        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        Assert.Contains("fim_agent_whodata_source{policy=\"command-line\",source=\"inotify\"} 1", metrics);
        Assert.Contains("fim_agent_whodata_source{policy=\"command-line\",source=\"fanotify-ebpf\"} 0", metrics);
    }

    private void Prepare(List<string> files)
    {
        foreach (var f in files)
        {
            _t.Write(f, "");
            File.SetUnixFileMode(_t[f], (UnixFileMode)0b110_110_110);
        }
        File.SetUnixFileMode(_t.Tree, (UnixFileMode)0b111_111_111);
    }

    private ChildProcess StartAgent() => CliRunner.Start(["watch", _t.Tree, "--json", .. _t.StateArgs]);

    private string WriteScript(string text)
    {
        var path = Path.Combine(_t.Root, $"script{Guid.NewGuid():N}.sh");
        File.WriteAllText(path, text);
        return path;
    }

    /// <param name="expectedExe">The writer's executable; null means /bin/sh resolved (what both tests run).</param>
    private async Task<Accuracy> JudgeAsync(ChildProcess agent, List<string> files, Func<int, uint> uidOf, string? expectedExe = null)
    {
        expectedExe ??= ChildProcess.Run("realpath", ["/bin/sh"]).EnsureSuccess().Stdout.Trim();
        var wanted = files.Select((f, i) => (Path: _t[f], Index: i)).ToDictionary(x => x.Path, x => x.Index);
        var alerts = new Dictionary<string, JsonElement>();
        var read = 0;
        try
        {
            await Eventually.TrueAsync(() =>
            {
                var lines = agent.StdoutLines;
                for (; read < lines.Count; read++)
                {
                    if (lines[read].Length == 0)
                    {
                        continue;
                    }
                    var e = JsonDocument.Parse(lines[read]).RootElement;
                    var path = e.GetProperty("path").GetString()!;
                    if (wanted.ContainsKey(path) && e.GetProperty("kind").GetString() == "modified")
                    {
                        alerts.TryAdd(path, e);
                    }
                }
                return alerts.Count == files.Count;
            }, () => $"alerts for all {files.Count} files, have {alerts.Count}", TimeSpan.FromMinutes(3));
        }
        catch (TimeoutException)
        {
            // Judged below: missing ones are counted, not hidden.
        }
        var result = new Accuracy { Total = files.Count };
        foreach (var (path, index) in wanted)
        {
            if (!alerts.TryGetValue(path, out var alert))
            {
                result.Missing++;
                continue;
            }
            var pid = int.Parse(File.ReadAllText(path).Trim());
            if (!alert.TryGetProperty("actor", out var actor) || actor.ValueKind != JsonValueKind.Object)
            {
                result.Wrong++;
                result.WrongSamples.Add($"{path}: no actor at all");
                continue;
            }
            if (actor.TryGetProperty("unknown", out var unknown))
            {
                result.Unknown++;
                result.UnknownReasons[unknown.GetString()!] = result.UnknownReasons.GetValueOrDefault(unknown.GetString()!) + 1;
                continue;
            }
            var gotPid = actor.GetProperty("pid").GetInt32();
            var gotUid = actor.GetProperty("uid").GetUInt32();
            var gotExe = actor.TryGetProperty("executable", out var exe) ? exe.GetString() : null;
            if (gotPid == pid && gotUid == uidOf(index) && gotExe == expectedExe)
            {
                result.Right++;
            }
            else
            {
                result.Wrong++;
                if (result.WrongSamples.Count < 10)
                {
                    result.WrongSamples.Add($"{path}: written by pid {pid} uid {uidOf(index)} {expectedExe}; actor {actor}");
                }
            }
        }
        return result;
    }

    private sealed class Accuracy
    {
        public int Total { get; init; }
        public int Right { get; set; }
        public int Unknown { get; set; }
        public int Wrong { get; set; }
        public int Missing { get; set; }
        public Dictionary<string, int> UnknownReasons { get; } = [];
        public List<string> WrongSamples { get; } = [];

        public override string ToString() =>
            $"{Right}/{Total} named right, {Unknown} unknown ({string.Join(", ", UnknownReasons.Select(r => $"{r.Key}: {r.Value}"))}), {Wrong} wrong, {Missing} not reported";
    }

    public void Dispose() => _t.Dispose();
}

/// <summary>The who-data tests load BPF programs and fanotify marks on the root file system: one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WhoDataCollection
{
    public const string Name = "who-data";
}
