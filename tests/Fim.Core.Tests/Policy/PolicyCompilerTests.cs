using System.Text;
using Fim.Core.Model;
using Fim.Core.Policy;

namespace Fim.Core.Tests.Policy;

public class PolicyCompilerTests
{
    private const string Source = "policy.yaml";

    [Fact]
    public void Full_policy_round_trips_into_the_compiled_form()
    {
        var spec = PolicyLoader.LoadYaml("""
            name: prod/web
            selector:
              role: web
              kubernetes.io/os: linux
            paths:
              - path: /etc/
                recursive: true
                maxDepth: 4
                include: ["*.conf", "/etc/ssh/**"]
                exclude: ["*.swp", "mtab"]
                check: [type, mode, uid, gid, size, mtime, hash, xattrs]
                hashes: [sha512, xxh128]
                maxFileSize: 500Mi
                oneFilesystem: false
                followSymlinks: true
                realtime: false
                reportDiffs: true
              - path: /usr/bin
                recursive: false
            schedule:
              rescanInterval: 1h30m
              fullVerifyInterval: 7d
              verify: full
            eventsPerSecond: 250
            severity: 10
            tags: [pci_dss:11.5, pci_dss:10.5.5, web-tier]
            throttle:
              bytesPerSecond: 50Mi
              filesPerSecond: 2000
              nice: 10
              ioClass: idle
              parallelism: 4
            """, Source);

        var policy = PolicyCompiler.Compile(spec);

        Assert.Equal("prod/web", policy.Name);
        Assert.Equal(new Dictionary<string, string> { ["role"] = "web", ["kubernetes.io/os"] = "linux" }, policy.Selector);
        Assert.Equal(2, policy.Rules.Count);

        var usrBin = policy.Rules[0];
        Assert.Equal("/usr/bin", usrBin.RootDisplay);
        Assert.Equal(1, usrBin.MaxDepth);

        var etc = policy.Rules[1];
        Assert.Equal("/etc", etc.RootDisplay);
        Assert.Equal("/etc"u8.ToArray(), etc.Root);
        Assert.Equal(4, etc.MaxDepth);
        Assert.Equal(["*.conf", "/etc/ssh/**"], etc.Include.Select(g => g.Pattern));
        Assert.Equal(["*.swp", "mtab"], etc.Exclude.Select(g => g.Pattern));
        Assert.Equal(
            CheckAttributes.Type | CheckAttributes.Mode | CheckAttributes.Uid | CheckAttributes.Gid | CheckAttributes.Size
            | CheckAttributes.Mtime | CheckAttributes.Hash | CheckAttributes.Xattrs,
            etc.Checks);
        Assert.Equal([HashAlgorithmKind.Sha512, HashAlgorithmKind.Xxh128], etc.HashKinds);
        Assert.Equal(500L * 1024 * 1024, etc.MaxFileSize);
        Assert.False(etc.OneFilesystem);
        Assert.True(etc.FollowSymlinks);
        Assert.False(etc.Realtime);
        Assert.True(etc.ReportDiffs);
        Assert.True(etc.IsExcluded("/etc/.passwd.swp"u8));
        Assert.False(etc.IsIncluded("/etc/passwd"u8, FileType.Regular));
        Assert.True(etc.IsIncluded("/etc/ssh/sshd_config"u8, FileType.Regular));

        Assert.Equal(TimeSpan.FromMinutes(90), policy.RescanInterval);
        Assert.Equal(TimeSpan.FromDays(7), policy.FullVerifyInterval);
        Assert.True(policy.VerifyFull);
        Assert.Equal(250, policy.EventsPerSecond);
        Assert.Equal(10, policy.Severity);
        Assert.Equal(["pci_dss:11.5", "pci_dss:10.5.5", "web-tier"], policy.Tags);
        Assert.Equal(50L * 1024 * 1024, policy.BytesPerSecond);
        Assert.Equal(2000, policy.FilesPerSecond);
        Assert.Equal(10, policy.Nice);
        Assert.Equal(IoPriorityClass.Idle, policy.IoClass);
        Assert.Equal(4, policy.Parallelism);
    }

    [Fact]
    public void Minimal_policy_gets_the_documented_defaults()
    {
        var policy = PolicyCompiler.Compile(PolicyLoader.LoadYaml("paths: [{path: /etc}]", Source));

        Assert.Equal("default", policy.Name);
        Assert.Null(policy.Selector);
        var rule = Assert.Single(policy.Rules);
        AssertDefaultRule(rule, "/etc");
        Assert.Equal(TimeSpan.FromHours(12), policy.RescanInterval);
        Assert.Null(policy.FullVerifyInterval);
        Assert.False(policy.VerifyFull);
        Assert.Equal(0, policy.EventsPerSecond);
        Assert.Null(policy.Severity);
        Assert.Empty(policy.Tags);
        Assert.Null(policy.BytesPerSecond);
        Assert.Null(policy.FilesPerSecond);
        Assert.Null(policy.Nice);
        Assert.Equal(IoPriorityClass.Normal, policy.IoClass);
        Assert.Equal(Environment.ProcessorCount, policy.Parallelism);
    }

    [Fact]
    public void Default_attribute_set_covers_AIDEs_default_rule()
    {
        // AIDE's p+i+n+u+g+s+m+c+sha256+ftype+l.
        var aide = CheckAttributes.Mode | CheckAttributes.Inode | CheckAttributes.LinkCount | CheckAttributes.Uid
            | CheckAttributes.Gid | CheckAttributes.Size | CheckAttributes.Mtime | CheckAttributes.Ctime
            | CheckAttributes.Hash | CheckAttributes.Type | CheckAttributes.SymlinkTarget;
        var rule = PolicyCompiler.Compile(PolicyLoader.LoadYaml("paths: [{path: /etc}]", Source)).Rules[0];

        Assert.Equal(aide, rule.Checks & aide);
        Assert.Contains(HashAlgorithmKind.Sha256, rule.HashKinds);
    }

    [Theory]
    [InlineData("paths: []\n", "paths", 1, "at least one path to monitor is required")]
    [InlineData("name: web\n", "paths", 1, "at least one path to monitor is required")]
    [InlineData("name: ''\npaths: [{path: /etc}]\n", "name", 1, "must not be empty")]
    [InlineData("paths:\n  - path: /etc\n  - path: etc\n", "paths[1].path", 3, "must be an absolute path, got 'etc'")]
    [InlineData("paths:\n  - path: ''\n", "paths[0].path", 2, "must not be empty")]
    [InlineData("paths:\n  - path: \"/etc/\\0x\"\n", "paths[0].path", 2, "must not contain a NUL character")]
    [InlineData("paths:\n  - path: /etc\n  - path: /etc/\n", "paths[1].path", 3, "'/etc' is already monitored by paths[0]")]
    [InlineData("paths:\n  - path: /etc\n  - path: /usr/../etc\n", "paths[1].path", 3, "'/etc' is already monitored by paths[0]")]
    [InlineData("paths:\n  - path: /etc\n    maxDepth: -1\n", "paths[0].maxDepth", 3, "must be 0 or more, got -1")]
    [InlineData("paths:\n  - path: /etc\n    recursive: false\n    maxDepth: 3\n", "paths[0].maxDepth", 4, "recursive is false")]
    [InlineData("paths:\n  - path: /etc\n    include: ['*.conf', 'file[0-9']\n", "paths[0].include[1]", 3, "unclosed '['")]
    [InlineData("paths:\n  - path: /etc\n    exclude:\n      - '[z-a]'\n", "paths[0].exclude[0]", 4, "reversed")]
    [InlineData("paths:\n  - path: /etc\n    check: [mode, perms]\n", "paths[0].check[1]", 3, "unknown attribute 'perms'; known: all, type, mode,")]
    [InlineData("paths:\n  - path: /etc\n    check: [mtim]\n", "paths[0].check[0]", 3, "unknown attribute 'mtim' (did you mean 'mtime'?)")]
    [InlineData("paths:\n  - path: /etc\n    hashes: [whirlpool]\n", "paths[0].hashes[0]", 3, "unknown hash algorithm 'whirlpool'; known: sha256, sha512, sha1, md5, xxh128")]
    [InlineData("paths:\n  - path: /etc\n    hashes: [sha265]\n", "paths[0].hashes[0]", 3, "(did you mean 'sha256'?)")]
    [InlineData("paths:\n  - path: /etc\n    maxFileSize: lots\n", "paths[0].maxFileSize", 3, "invalid size 'lots'")]
    [InlineData("paths:\n  - path: /etc\n    maxFileSize: -1\n", "paths[0].maxFileSize", 3, "must be 0 or more, got '-1'")]
    [InlineData("paths: [{path: /etc}]\nschedule:\n  rescanInterval: 5s\n", "schedule.rescanInterval", 3, "must be at least 10s, got '5s'")]
    [InlineData("paths: [{path: /etc}]\nschedule:\n  rescanInterval: soon\n", "schedule.rescanInterval", 3, "invalid duration 'soon'")]
    [InlineData("paths: [{path: /etc}]\nschedule:\n  fullVerifyInterval: 1w\n", "schedule.fullVerifyInterval", 3, "invalid duration '1w'")]
    [InlineData("paths: [{path: /etc}]\nschedule:\n  verify: sometimes\n", "schedule.verify", 3, "must be 'incremental' or 'full', got 'sometimes'")]
    [InlineData("paths: [{path: /etc}]\neventsPerSecond: -1\n", "eventsPerSecond", 2, "must be 0 or more, got -1")]
    [InlineData("paths: [{path: /etc}]\nseverity: 16\n", "severity", 2, "must be from 0 to 15, got 16")]
    [InlineData("paths: [{path: /etc}]\nseverity: -1\n", "severity", 2, "must be from 0 to 15, got -1")]
    [InlineData("paths: [{path: /etc}]\ntags: [pci_dss:11.5, '']\n", "tags[1]", 2, "must not be empty")]
    [InlineData("paths: [{path: /etc}]\ntags:\n  - pci_dss:11.5\n  - pci dss\n", "tags[1]", 4, "'pci dss' is not a tag")]
    [InlineData("paths: [{path: /etc}]\ntags: ['nist/800']\n", "tags[0]", 2, "'nist/800' is not a tag")]
    [InlineData("paths: [{path: /etc}]\nthrottle:\n  bytesPerSecond: 0\n", "throttle.bytesPerSecond", 3, "must be more than 0, got '0'")]
    [InlineData("paths: [{path: /etc}]\nthrottle:\n  bytesPerSecond: fast\n", "throttle.bytesPerSecond", 3, "invalid size 'fast'")]
    [InlineData("paths: [{path: /etc}]\nthrottle:\n  filesPerSecond: 0\n", "throttle.filesPerSecond", 3, "must be 1 or more, got 0")]
    [InlineData("paths: [{path: /etc}]\nthrottle:\n  nice: 20\n", "throttle.nice", 3, "must be from 0 to 19, got 20")]
    [InlineData("paths: [{path: /etc}]\nthrottle:\n  nice: -5\n", "throttle.nice", 3, "must be from 0 to 19, got -5")]
    [InlineData("paths: [{path: /etc}]\nthrottle:\n  ioClass: realtime\n", "throttle.ioClass", 3, "must be 'idle', 'best-effort' or 'normal', got 'realtime'")]
    [InlineData("paths: [{path: /etc}]\nthrottle:\n  parallelism: 0\n", "throttle.parallelism", 3, "must be from 1 to 64, got 0")]
    [InlineData("paths: [{path: /etc}]\nthrottle:\n  parallelism: 65\n", "throttle.parallelism", 3, "must be from 1 to 64, got 65")]
    [InlineData("paths: [{path: /etc}]\nselector:\n  '': web\n", "selector[\"\"]", 3, "label names must not be empty")]
    public void Invalid_values_name_the_field_and_line(string yaml, string field, int line, string detail)
    {
        var spec = PolicyLoader.LoadYaml(yaml, Source);

        var error = Assert.Throws<PolicyException>(() => PolicyCompiler.Compile(spec));

        var problem = Assert.Single(error.Problems);
        Assert.Equal(field, problem.FieldPath);
        Assert.Equal(line, problem.Line);
        Assert.Equal(Source, error.SourceName);
        Assert.StartsWith($"{Source}:{line}:", error.Message);
        Assert.Contains($": {field}: ", error.Message);
        Assert.Contains(detail, error.Message);
    }

    [Fact]
    public void Lists_every_problem_with_its_field_path_and_line()
    {
        var spec = PolicyLoader.LoadYaml("""
            name: web
            paths:
              - path: /etc
                hashes: [sha256, whirlpool]
              - path: etc
            severity: 99
            throttle:
              ioClass: fast
            """, Source);

        var error = Assert.Throws<PolicyException>(() => PolicyCompiler.Compile(spec));

        Assert.Equal(
            [("paths[0].hashes[1]", 4), ("paths[1].path", 5), ("severity", 6), ("throttle.ioClass", 8)],
            error.Problems.Select(p => (p.FieldPath, p.Line!.Value)));
        Assert.StartsWith("policy.yaml: 4 problems:\n", error.Message);
        Assert.Contains("\n  policy.yaml:5:11: paths[1].path: must be an absolute path, got 'etc'", error.Message);
        Assert.Contains("\n  policy.yaml:6:11: severity: must be from 0 to 15, got 99", error.Message);
    }

    [Fact]
    public void Policy_built_in_code_gets_field_paths_without_lines()
    {
        var spec = new PolicySpec { Paths = [new PathRule { Path = "/etc" }, new PathRule { Path = "etc" }] };

        var error = Assert.Throws<PolicyException>(() => PolicyCompiler.Compile(spec));

        Assert.Equal("paths[1].path: must be an absolute path, got 'etc'", error.Message);
        Assert.Null(error.Line);
        Assert.Null(error.SourceName);
        Assert.Equal("paths[1].path", error.FieldPath);
    }

    [Fact]
    public void Source_name_given_to_compile_is_used()
    {
        var spec = new PolicySpec();

        var error = Assert.Throws<PolicyException>(() => PolicyCompiler.Compile(spec, "fim-policies/prod.web"));

        Assert.Equal("fim-policies/prod.web: paths: at least one path to monitor is required (or a source to tail)", error.Message);
    }

    [Fact]
    public void Accepts_boundary_values()
    {
        var spec = PolicyLoader.LoadYaml("""
            paths:
              - path: /
                maxDepth: 0
                maxFileSize: 0
            schedule: {rescanInterval: 10s, fullVerifyInterval: 10}
            eventsPerSecond: 0
            severity: 15
            throttle: {bytesPerSecond: 1, filesPerSecond: 1, nice: 19, ioClass: best-effort, parallelism: 64}
            """, Source);

        var policy = PolicyCompiler.Compile(spec);

        Assert.Equal(0, policy.Rules[0].MaxDepth);
        Assert.Equal(0, policy.Rules[0].MaxFileSize);
        Assert.Equal(TimeSpan.FromSeconds(10), policy.RescanInterval);
        Assert.Equal(TimeSpan.FromSeconds(10), policy.FullVerifyInterval);
        Assert.Equal(15, policy.Severity);
        Assert.Equal(1, policy.BytesPerSecond);
        Assert.Equal(19, policy.Nice);
        Assert.Equal(IoPriorityClass.BestEffort, policy.IoClass);
        Assert.Equal(64, policy.Parallelism);

        spec.Severity = 0;
        spec.Throttle.Nice = 0;
        spec.Throttle.Parallelism = 1;
        spec.Throttle.IoClass = "normal";
        policy = PolicyCompiler.Compile(spec);
        Assert.Equal(0, policy.Severity);
        Assert.Equal(0, policy.Nice);
        Assert.Equal(1, policy.Parallelism);
        Assert.Equal(IoPriorityClass.Normal, policy.IoClass);
    }

    [Theory]
    [InlineData(true, null, int.MaxValue)]
    [InlineData(true, 3, 3)]
    [InlineData(true, 0, 0)]
    [InlineData(false, null, 1)]
    [InlineData(false, 1, 1)]
    [InlineData(false, 0, 0)]
    public void Recursive_and_maxDepth_give_the_depth(bool recursive, int? maxDepth, int expected)
    {
        var spec = new PolicySpec { Paths = [new PathRule { Path = "/etc", Recursive = recursive, MaxDepth = maxDepth }] };

        Assert.Equal(expected, PolicyCompiler.Compile(spec).Rules[0].MaxDepth);
    }

    [Fact]
    public void Check_all_selects_every_attribute()
    {
        var rule = CompileOneRule(new PathRule { Path = "/etc", Check = ["all"] });

        // "growing" changes what counts as a change (appends do not), so "all" never implies it.
        Assert.False(rule.Checks.HasFlag(CheckAttributes.Growing));
        foreach (var name in CheckAttributeNames.All.Where(n => n != "growing"))
        {
            Assert.True(CheckAttributeNames.TryParse(name, out var flag));
            Assert.True(rule.Checks.HasFlag(flag), name);
        }
        Assert.True(rule.Checks.HasFlag(CheckAttributes.Xattrs));
        Assert.NotEqual(CheckAttributes.Default, rule.Checks);
    }

    [Fact]
    public void Check_lists_exactly_the_attributes_named()
    {
        var rule = CompileOneRule(new PathRule { Path = "/etc", Check = ["mode", "Owner", "target"] });

        Assert.Equal(CheckAttributes.Mode | CheckAttributes.Owner | CheckAttributes.SymlinkTarget, rule.Checks);
    }

    [Fact]
    public void Hashes_without_the_hash_check_are_accepted_and_unused()
    {
        var rule = CompileOneRule(new PathRule { Path = "/etc", Check = ["mode", "size"], Hashes = ["sha512"] });

        Assert.Equal([HashAlgorithmKind.Sha512], rule.HashKinds);
        Assert.False(rule.WantsHash);
    }

    [Fact]
    public void Hashes_keep_their_order_without_repeats()
    {
        var rule = CompileOneRule(new PathRule { Path = "/etc", Hashes = ["sha512", "SHA256", "sha512", "md5"] });

        Assert.Equal([HashAlgorithmKind.Sha512, HashAlgorithmKind.Sha256, HashAlgorithmKind.Md5], rule.HashKinds);
        Assert.True(rule.WantsHash);
    }

    [Fact]
    public void Repeated_tags_are_kept_once()
    {
        var spec = new PolicySpec { Paths = [new PathRule { Path = "/etc" }], Tags = ["pci_dss:11.5", "web", "pci_dss:11.5"] };

        Assert.Equal(["pci_dss:11.5", "web"], PolicyCompiler.Compile(spec).Tags);
    }

    [Fact]
    public void Rules_are_ordered_longest_root_first_so_the_most_specific_rule_wins()
    {
        var spec = new PolicySpec
        {
            Paths =
            [
                new PathRule { Path = "/" },
                new PathRule { Path = "/usr" },
                new PathRule { Path = "/usr/bin", Check = ["hash"] },
                new PathRule { Path = "/etc" },
            ],
        };

        var policy = PolicyCompiler.Compile(spec);

        Assert.Equal(["/usr/bin", "/etc", "/usr", "/"], policy.Rules.Select(r => r.RootDisplay));
        Assert.Equal("/usr/bin", policy.RuleFor("/usr/bin/ls"u8)!.RootDisplay);
        Assert.Equal("/usr", policy.RuleFor("/usr/binaries"u8)!.RootDisplay);
        Assert.Equal("/", policy.RuleFor("/var/log/x"u8)!.RootDisplay);
    }

    [Fact]
    public void ForPaths_normalises_resolves_and_deduplicates_command_line_paths()
    {
        var cwd = Directory.GetCurrentDirectory();

        var policy = PolicyCompiler.ForPaths(["/etc/", "/usr//bin/../bin", "relative/dir", "/etc"]);

        Assert.Equal(PolicyCompiler.CommandLinePolicyName, policy.Name);
        Assert.Equal(
            new[] { Path.Combine(cwd, "relative/dir"), "/usr/bin", "/etc" }.OrderByDescending(p => Encoding.UTF8.GetByteCount(p)),
            policy.Rules.Select(r => r.RootDisplay));
        foreach (var rule in policy.Rules)
        {
            AssertDefaultRule(rule, rule.RootDisplay);
        }
        Assert.Equal(TimeSpan.FromHours(12), policy.RescanInterval);
    }

    [Fact]
    public void ForPaths_refuses_no_paths_and_empty_paths()
    {
        var none = Assert.Throws<PolicyException>(() => PolicyCompiler.ForPaths([]));
        Assert.Equal("command line: paths: at least one path to monitor is required (or a source to tail)", none.Message);

        var empty = Assert.Throws<PolicyException>(() => PolicyCompiler.ForPaths(["/etc", ""]));
        Assert.Equal("command line: paths[1].path: must not be empty", empty.Message);
    }

    [Fact]
    public void LoadAndCompile_reports_validation_problems_with_file_and_line()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("policy.yaml", "name: web\npaths:\n  - path: /etc\n    maxFileSize: 2 lots\n");

        var error = Assert.Throws<PolicyException>(() => PolicyCompiler.LoadAndCompile(file));

        Assert.Equal(file, error.SourceName);
        Assert.StartsWith($"{file}:4:18: paths[0].maxFileSize: invalid size '2 lots'", error.Message);
    }

    [Fact]
    public void LoadAndCompile_compiles_a_valid_file()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("policy.json", """{"name": "json", "paths": [{"path": "/srv", "exclude": ["*.tmp"]}]}""");

        var policy = PolicyCompiler.LoadAndCompile(file);

        Assert.Equal("json", policy.Name);
        Assert.True(policy.Rules[0].IsExcluded("/srv/a.tmp"u8));
    }

    private static CompiledPathRule CompileOneRule(PathRule rule) =>
        Assert.Single(PolicyCompiler.Compile(new PolicySpec { Paths = [rule] }).Rules);

    private static void AssertDefaultRule(CompiledPathRule rule, string root)
    {
        Assert.Equal(root, rule.RootDisplay);
        Assert.Equal(int.MaxValue, rule.MaxDepth);
        Assert.Equal(CheckAttributes.Default, rule.Checks);
        Assert.Equal([HashAlgorithmKind.Sha256], rule.HashKinds);
        Assert.Equal(2L * 1024 * 1024 * 1024, rule.MaxFileSize);
        Assert.True(rule.OneFilesystem);
        Assert.False(rule.FollowSymlinks);
        Assert.True(rule.Realtime);
        Assert.False(rule.ReportDiffs);
        Assert.Empty(rule.Include);
        Assert.Empty(rule.Exclude);
        Assert.True(rule.WantsHash);
    }
}
