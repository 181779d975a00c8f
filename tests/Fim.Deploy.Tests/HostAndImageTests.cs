using System.Text.RegularExpressions;
using Fim.Testing;

namespace Fim.Deploy.Tests;

#pragma warning disable CA1416 // Linux-only tests (file modes)

/// <summary>The systemd unit, the host installer and the Dockerfiles, at lint level (no systemd PID 1, no container engine here).</summary>
public sealed class HostAndImageTests
{
    private static string Unit => Path.Combine(Repo.Root, "deploy", "systemd", "fim-agent.service");
    private static string Installer => Path.Combine(Repo.Root, "deploy", "install-agent.sh");

    private static ProcessResult Verify(string unitText)
    {
        var dir = Directory.CreateTempSubdirectory("fim-unit-");
        try
        {
            // verify insists that ExecStart exists; the agent is not installed on the test machine.
            var path = Path.Combine(dir.FullName, "fim-agent.service");
            File.WriteAllText(path, unitText.Replace("ExecStart=/opt/fim-agent/fim-agent", "ExecStart=/bin/true", StringComparison.Ordinal));
            return ChildProcess.Run("systemd-analyze", ["verify", path]);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Systemd_unit_verifies_without_a_warning()
    {
        Assert.True(Repo.OnPath("systemd-analyze"), "systemd-analyze is not installed (Debian package systemd)");
        var r = Verify(File.ReadAllText(Unit));
        Assert.True(r.ExitCode == 0 && r.Output.Trim().Length == 0, r.Output);

        // and the check sees mistakes
        var broken = Verify(File.ReadAllText(Unit).Replace("ProtectSystem=strict", "ProtectSystem=strictt").Replace("NoNewPrivileges=yes", "NoNewPrivilegez=yes"));
        Assert.Contains("strictt", broken.Output);
        Assert.Contains("NoNewPrivilegez", broken.Output);
    }

    [Fact]
    public void Systemd_unit_has_the_required_hardening()
    {
        var settings = File.ReadAllLines(Unit)
            .Where(l => l.Contains('=') && !l.TrimStart().StartsWith('#'))
            .Select(l => (Key: l[..l.IndexOf('=')].Trim(), Value: l[(l.IndexOf('=') + 1)..].Trim()))
            .ToLookup(x => x.Key, x => x.Value);
        var required = new Dictionary<string, string>
        {
            ["ProtectSystem"] = "strict",
            ["ProtectHome"] = "read-only",
            ["ReadWritePaths"] = "/var/lib/fim-agent",
            ["NoNewPrivileges"] = "yes",
            ["CapabilityBoundingSet"] = "CAP_DAC_READ_SEARCH",
            ["AmbientCapabilities"] = "CAP_DAC_READ_SEARCH",
            ["PrivateTmp"] = "yes",
            ["ProtectKernelTunables"] = "yes",
            ["ProtectKernelModules"] = "yes",
            ["ProtectControlGroups"] = "yes",
            ["RestrictAddressFamilies"] = "AF_INET AF_INET6 AF_UNIX",
            ["RestrictSUIDSGID"] = "yes",
            ["LockPersonality"] = "yes",
            ["SystemCallArchitectures"] = "native",
        };
        foreach (var (key, value) in required)
        {
            Assert.True(settings[key].SequenceEqual([value]), $"{key} must be exactly '{value}', found [{string.Join(", ", settings[key])}]");
        }
        Assert.Contains("@system-service", settings["SystemCallFilter"]);
        Assert.Contains(settings["SystemCallFilter"], v => v.StartsWith('~') && v.Contains("@privileged"));
        Assert.Equal(["/opt/fim-agent/fim-agent run --config /etc/fim-agent/agent.yaml"], settings["ExecStart"]);
    }

    [Fact]
    public void Installer_is_idempotent_keeps_the_key_and_refuses_injection()
    {
        var work = Directory.CreateTempSubdirectory("fim-install-");
        try
        {
            var pub = Directory.CreateDirectory(Path.Combine(work.FullName, "publish")).FullName;
            File.WriteAllText(Path.Combine(pub, "fim-agent.dll"), "dll");
            File.WriteAllText(Path.Combine(pub, "fim-agent"), "apphost");
            var root = Path.Combine(work.FullName, "root");
            string[] args = [Installer, "--from", pub, "--nats-url", "tls://nats-a.example.com:4222,tls://nats-b.example.com:4222", "--agent-id", "web-01", "--label", "env=prod", "--root", root];

            var first = ChildProcess.Run("bash", args, workingDirectory: Repo.Root);
            Assert.True(first.ExitCode == 0, first.Output);
            Assert.Contains("(changed)", first.Stdout);
            var key = File.ReadAllBytes(Path.Combine(root, "etc/fim-agent/hmac.key"));
            Assert.Equal(32, key.Length);
            Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(Path.Combine(root, "etc/fim-agent/hmac.key")));
            Assert.True(File.Exists(Path.Combine(root, "etc/systemd/system/fim-agent.service")));
            Assert.Equal("apphost", File.ReadAllText(Path.Combine(root, "opt/fim-agent/fim-agent")));

            var config = HelmRender.Parse(File.ReadAllText(Path.Combine(root, "etc/fim-agent/agent.yaml")));
            Assert.Equal("web-01", HelmRender.Str(config, "agentId"));
            Assert.Equal("tls://nats-a.example.com:4222,tls://nats-b.example.com:4222", HelmRender.Str((YamlDotNet.RepresentationModel.YamlMappingNode)config.Children[new YamlDotNet.RepresentationModel.YamlScalarNode("nats")], "url"));
            Assert.Equal("/etc/fim-agent/hmac.key", HelmRender.Str(config, "keyFile"));

            var second = ChildProcess.Run("bash", args, workingDirectory: Repo.Root);
            Assert.True(second.ExitCode == 0, second.Output);
            Assert.Contains("(unchanged)", second.Stdout);
            Assert.Equal(key, File.ReadAllBytes(Path.Combine(root, "etc/fim-agent/hmac.key")));

            var marker = Path.Combine(work.FullName, "pwned");
            foreach (var bad in new[] { $"nats://x;touch {marker}", $"nats://$(touch {marker})", "http://nats:4222" })
            {
                var r = ChildProcess.Run("bash", [Installer, "--from", pub, "--nats-url", bad, "--root", root], workingDirectory: Repo.Root);
                Assert.Equal(2, r.ExitCode);
                Assert.Contains("--nats-url", r.Stderr);
            }
            var badLabel = ChildProcess.Run("bash", [Installer, "--from", pub, "--nats-url", "nats://n:4222", "--label", $"a=\"; touch {marker}", "--root", root], workingDirectory: Repo.Root);
            Assert.Equal(2, badLabel.ExitCode);
            Assert.False(File.Exists(marker));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("Dockerfile.agent", "Fim.Agent", "runtime-deps", "0:0")]
    [InlineData("Dockerfile.manager", "Fim.Manager", "aspnet", "65532:65532")]
    [InlineData("Dockerfile.operator", "Fim.Operator", "runtime", "65532:65532")]
    public void Dockerfiles_are_multi_stage_small_and_set_their_user(string file, string project, string runtime, string user)
    {
        var lines = File.ReadAllLines(Path.Combine(Repo.Root, "deploy", "docker", file)).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var froms = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, froms.Count);
        Assert.Matches(@"^FROM mcr\.microsoft\.com/dotnet/sdk:10\.0 AS build$", froms[0]);
        Assert.Matches($@"^FROM mcr\.microsoft\.com/dotnet/{runtime}:10\.0-bookworm-slim$", froms[1]);
        Assert.Contains(lines, l => l.Contains($"dotnet publish src/{project}/{project}.csproj -c Release"));
        var users = lines.Where(l => l.StartsWith("USER ", StringComparison.Ordinal)).ToList();
        Assert.Equal([$"USER {user}"], users);
        Assert.True(lines.IndexOf(users[0]) > lines.IndexOf(froms[1]), "USER must be set in the final stage");
        Assert.DoesNotContain(lines, l => Regex.IsMatch(l, @"(?i)(password|secret|token)\s*="));

        // The entrypoint runs the assembly the project builds (when that project is in this tree), or its native AOT executable.
        var csproj = Path.Combine(Repo.Root, "src", project, project + ".csproj");
        var entry = lines.Single(l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal));
        if (File.Exists(csproj))
        {
            var assembly = Regex.Match(File.ReadAllText(csproj), "<AssemblyName>([^<]+)</AssemblyName>").Groups[1].Value;
            Assert.Matches($@"/{Regex.Escape(assembly)}(\.dll)?""", entry);
        }
    }
}
