using System.Text;
using Fim.Core.Policy;

namespace Fim.Core.Tests.Policy;

public class PolicyLoaderTests
{
    private const string Source = "policy.yaml";

    [Fact]
    public void Unknown_key_names_key_line_column_allowed_keys_and_the_near_miss()
    {
        var error = LoadFails("""
            name: web
            paths:
              - path: /etc
                recursve: true
            """);

        Assert.Equal(Source, error.SourceName);
        Assert.Equal(4, error.Line);
        Assert.Equal(5, error.Column);
        Assert.Equal("paths[0].recursve", error.FieldPath);
        Assert.StartsWith("policy.yaml:4:5: unknown key 'recursve' in paths[0];", error.Message);
        Assert.Contains("did you mean 'recursive'?", error.Message);
        Assert.Contains("allowed: path, recursive, maxDepth, include, exclude, check, hashes, maxFileSize, oneFilesystem, followSymlinks, realtime, reportDiffs", error.Message);
    }

    [Theory]
    [InlineData("Name: web", "name")]
    [InlineData("max_depth: 3", null)]
    [InlineData("tag: [a]", "tags")]
    [InlineData("evntsPerSecond: 5", "eventsPerSecond")]
    [InlineData("colour: blue", null)]
    public void Unknown_top_level_key_suggests_only_a_near_miss(string line, string? suggestion)
    {
        var error = LoadFails("paths: [{path: /etc}]\n" + line + "\n");

        Assert.Equal(2, error.Line);
        Assert.Contains($"unknown key '{line.Split(':')[0]}' in the top level;", error.Message);
        Assert.Contains("allowed: name, selector, paths, schedule, eventsPerSecond, severity, tags, throttle", error.Message);
        if (suggestion is null)
        {
            Assert.DoesNotContain("did you mean", error.Message);
        }
        else
        {
            Assert.Contains($"did you mean '{suggestion}'?", error.Message);
        }
    }

    [Fact]
    public void Near_miss_ignores_case_and_separators()
    {
        var error = LoadFails("paths:\n  - path: /etc\n    max_depth: 3\n");
        Assert.Contains("did you mean 'maxDepth'?", error.Message);
        Assert.Equal(3, error.Line);
    }

    [Fact]
    public void Unknown_key_in_a_section_names_the_section()
    {
        var error = LoadFails("""
            paths: [{path: /etc}]
            schedule:
              rescanIntervall: 1h
            throttle:
              nice: 5
            """);

        Assert.Equal("schedule.rescanIntervall", error.FieldPath);
        Assert.Equal(3, error.Line);
        Assert.Contains("unknown key 'rescanIntervall' in schedule; did you mean 'rescanInterval'? allowed: rescanInterval, fullVerifyInterval, verify", error.Message);
    }

    [Fact]
    public void Wrong_boolean_names_key_line_column_and_what_was_expected()
    {
        var error = LoadFails("""
            name: web
            paths:
              - path: /etc
                exclude:
                  - "*.swp"
                check: [mode]
                recursive: yes please
            """);

        Assert.Equal("policy.yaml:7:16: 'recursive' in paths[0] expects true or false, got 'yes please'", error.Message);
        Assert.Equal("paths[0].recursive", error.FieldPath);
        Assert.Equal(7, error.Line);
        Assert.Equal(16, error.Column);
    }

    [Theory]
    [InlineData("eventsPerSecond: many", "'eventsPerSecond' expects an integer, got 'many'")]
    [InlineData("eventsPerSecond: 1.5", "'eventsPerSecond' expects an integer, got '1.5'")]
    [InlineData("severity: 99999999999", "'severity' expects an integer from -2147483648 to 2147483647, got '99999999999'")]
    [InlineData("name: {first: web}", "'name' expects a string, got a mapping")]
    [InlineData("name: [web]", "'name' expects a string, got a list")]
    [InlineData("name:", "'name' expects a string, got nothing")]
    [InlineData("tags: {pci: yes}", "'tags' expects a list of strings, got a mapping")]
    [InlineData("tags: [[a, b]]", "'tags[0]' expects a string, got a list")]
    [InlineData("selector: app", "'selector' expects a mapping of names to strings, got 'app'")]
    [InlineData("selector: {app: [a]}", "'selector[\"app\"]' expects a string, got a list")]
    [InlineData("schedule: daily", "'schedule' expects a mapping with keys rescanInterval, fullVerifyInterval, verify, got 'daily'")]
    [InlineData("throttle: [1]", "'throttle' expects a mapping with keys bytesPerSecond, filesPerSecond, nice, ioClass, parallelism, got a list")]
    [InlineData("throttle: {nice: low}", "'nice' in throttle expects an integer, got 'low'")]
    public void Wrong_type_names_key_line_and_expected_type(string line, string message)
    {
        var error = LoadFails("paths: [{path: /etc}]\n" + line + "\n");

        Assert.Equal(2, error.Line);
        Assert.StartsWith("policy.yaml:2:", error.Message);
        Assert.EndsWith(message, error.Message);
    }

    [Fact]
    public void Paths_must_be_mappings()
    {
        var error = LoadFails("name: web\npaths: /etc\n");

        Assert.Equal("paths", error.FieldPath);
        Assert.StartsWith("policy.yaml:2:8: 'paths' expects a list of mappings with keys path, recursive,", error.Message);

        error = LoadFails("paths:\n  - /etc\n");
        Assert.Equal("paths[0]", error.FieldPath);
        Assert.StartsWith("policy.yaml:2:5: 'paths[0]' expects a mapping with keys path,", error.Message);
    }

    [Fact]
    public void Duplicate_keys_are_errors_naming_both_lines()
    {
        var error = LoadFails("""
            name: web
            paths: [{path: /etc}]
            name: db
            """);

        Assert.Equal(3, error.Line);
        Assert.Equal("name", error.FieldPath);
        Assert.Equal("policy.yaml:3:1: duplicate key 'name' in the top level (first given at line 1)", error.Message);
    }

    [Fact]
    public void Duplicate_keys_inside_a_rule_and_a_selector_are_errors()
    {
        var error = LoadFails("""
            selector:
              role: web
              role: db
            paths:
              - path: /etc
              - path: /usr
                recursive: true
                path: /bin
            """);

        Assert.Equal(2, error.Problems.Count);
        Assert.Equal("selector[\"role\"]", error.Problems[0].FieldPath);
        Assert.Equal(3, error.Problems[0].Line);
        Assert.Contains("duplicate key 'role' in selector (first given at line 2)", error.Problems[0].Message);
        Assert.Equal("paths[1].path", error.Problems[1].FieldPath);
        Assert.Equal(8, error.Problems[1].Line);
        Assert.Contains("duplicate key 'path' in paths[1] (first given at line 6)", error.Problems[1].Message);
    }

    [Fact]
    public void Reports_every_binding_problem_at_once()
    {
        var error = LoadFails("""
            paths:
              - path: /etc
                recursive: maybe
              - path: /usr
                realtime: often
            severity: high
            """);

        Assert.Equal(3, error.Problems.Count);
        Assert.Equal([3, 5, 6], error.Problems.Select(p => p.Line!.Value));
        Assert.Equal(["paths[0].recursive", "paths[1].realtime", "severity"], error.Problems.Select(p => p.FieldPath));
        Assert.StartsWith("policy.yaml: 3 problems:\n  policy.yaml:3:16: 'recursive' in paths[0]", error.Message);
        Assert.Contains("\n  policy.yaml:6:11: 'severity' expects an integer, got 'high'", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# nothing here yet\n")]
    [InlineData("---\n")]
    [InlineData("~\n")]
    public void Empty_policy_is_an_error(string yaml)
    {
        var error = LoadFails(yaml);

        Assert.Equal(Source, error.SourceName);
        Assert.StartsWith("policy.yaml", error.Message);
        Assert.Contains("the policy is empty", error.Message);
        Assert.Null(error.FieldPath);
    }

    [Theory]
    [InlineData("- path: /etc\n", "got a list")]
    [InlineData("just words\n", "got a single value")]
    public void Top_level_must_be_a_mapping(string yaml, string found)
    {
        var error = LoadFails(yaml);

        Assert.Equal(1, error.Line);
        Assert.StartsWith("policy.yaml:1:1: the top level of a policy must be a mapping of keys (name, selector, paths,", error.Message);
        Assert.EndsWith(found, error.Message);
    }

    [Theory]
    [InlineData("paths:\n  - path: /etc\n   bad: indent\n", 3)]
    [InlineData("name: web\npaths: [{path: /etc}\nseverity: 3\n", 3)]
    [InlineData("name: web\ntags: [a, b\nseverity: 3\n", 3)]
    [InlineData("name: 'unterminated\n", 2)]
    [InlineData("paths:\n  - path: /etc\n  \t  recursive: true\n", 3)]
    [InlineData("paths:\n\t- path: /etc\n", 2)]
    [InlineData("name: \"bad \\q escape\"\n", 1)]
    [InlineData("paths: [{path: /etc}]\nname: *nowhere\n", 2)]
    [InlineData("paths: [{path: /etc}]\n---\nname: second\n", 2)]
    public void Yaml_syntax_errors_name_file_and_line(string yaml, int line)
    {
        var error = LoadFails(yaml);

        Assert.Equal(line, error.Line);
        Assert.NotNull(error.Column);
        Assert.StartsWith($"policy.yaml:{line}:", error.Message);
        Assert.Contains("YAML syntax error", error.Message);
    }

    [Fact]
    public void Syntax_error_spanning_lines_says_where_the_construct_began()
    {
        var error = LoadFails("paths: [{path: /etc}]\nname: 'unterminated\nseverity: 3\n");

        Assert.StartsWith("policy.yaml:4:1: YAML syntax error: ", error.Message);
        Assert.EndsWith("(in what begins at line 2, column 7)", error.Message);
    }

    [Fact]
    public void Keys_must_be_names()
    {
        var error = LoadFails("paths: [{path: /etc}]\n? [a, b]\n: 1\n");

        Assert.Equal(2, error.Line);
        Assert.Contains("keys in the top level must be names, got a list", error.Message);
    }

    [Fact]
    public void Alias_expansion_is_bounded()
    {
        var yaml = new StringBuilder();
        yaml.Append("tags: &many [").AppendJoin(", ", Enumerable.Repeat("t", 1000)).Append("]\n");
        yaml.Append("paths:\n  - &rule {path: /etc, include: *many}\n");
        for (var i = 0; i < 200; i++)
        {
            yaml.Append("  - *rule\n");
        }

        var error = LoadFails(yaml.ToString());

        Assert.Contains("more than 100000 values", error.Message);
        Assert.Single(error.Problems);
    }

    [Fact]
    public void Anchors_and_aliases_share_values()
    {
        var spec = PolicyLoader.LoadYaml("""
            paths:
              - path: /etc
                exclude: &noise ["*.swp", "*~"]
              - path: /usr/bin
                exclude: *noise
            """, Source);

        Assert.Equal(["*.swp", "*~"], spec.Paths[1].Exclude);
    }

    [Fact]
    public void A_single_string_is_a_one_item_list()
    {
        var spec = PolicyLoader.LoadYaml("""
            tags: pci_dss:11.5
            paths:
              - path: /etc
                exclude: "*.swp"
                check: hash
                hashes: sha512
            """, Source);

        Assert.Equal(["pci_dss:11.5"], spec.Tags);
        Assert.Equal(["*.swp"], spec.Paths[0].Exclude);
        Assert.Equal(["hash"], spec.Paths[0].Check);
        Assert.Equal(["sha512"], spec.Paths[0].Hashes);
    }

    [Fact]
    public void Empty_values_clear_optional_fields_and_keep_defaults_elsewhere()
    {
        var spec = PolicyLoader.LoadYaml("""
            selector:
            schedule:
            throttle: ~
            severity: null
            paths:
              - path: /etc
                maxDepth:
                include:
                maxFileSize: ""
            """, Source);

        Assert.Null(spec.Selector);
        Assert.Null(spec.Severity);
        Assert.Equal("incremental", spec.Schedule.Verify);
        Assert.Null(spec.Throttle.Parallelism);
        Assert.Null(spec.Paths[0].MaxDepth);
        Assert.Empty(spec.Paths[0].Include);
        Assert.Equal("", spec.Paths[0].MaxFileSize); // quoted: an empty string, not null
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("TRUE", true)]
    [InlineData("false", false)]
    [InlineData("False", false)]
    [InlineData("FALSE", false)]
    public void Booleans_follow_YAML_core_schema(string text, bool expected)
    {
        var spec = PolicyLoader.LoadYaml($"paths: [{{path: /etc, realtime: {text}, recursive: {text}}}]", Source);
        Assert.Equal(expected, spec.Paths[0].Realtime);
        Assert.Equal(expected, spec.Paths[0].Recursive);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("on")]
    [InlineData("1")]
    [InlineData("tru")]
    public void Yaml11_style_booleans_are_refused(string text)
    {
        var error = LoadFails($"paths: [{{path: /etc, realtime: {text}}}]");
        Assert.Contains($"'realtime' in paths[0] expects true or false, got '{text}'", error.Message);
    }

    [Fact]
    public void Json_policy_loads()
    {
        var spec = PolicyLoader.LoadYaml("""
            {
            	"name": "prod/web",
            	"selector": {"kubernetes.io/os": "linux"},
            	"paths": [
            		{"path": "\/etc", "recursive": false, "exclude": ["*.swp"], "maxFileSize": "500M"},
            		{"path": "/usr/bin", "check": ["mode", "hash"], "hashes": ["sha256", "sha512"], "maxDepth": 3}
            	],
            	"schedule": {"rescanInterval": "1h", "verify": "full"},
            	"eventsPerSecond": 200,
            	"severity": null,
            	"tags": ["pci_dss:11.5"],
            	"throttle": {"bytesPerSecond": "50Mi", "nice": 10}
            }
            """, "cr.json");

        Assert.Equal("prod/web", spec.Name);
        Assert.Equal("linux", spec.Selector!["kubernetes.io/os"]);
        Assert.Equal("/etc", spec.Paths[0].Path);
        Assert.False(spec.Paths[0].Recursive);
        Assert.Equal(["*.swp"], spec.Paths[0].Exclude);
        Assert.Equal("500M", spec.Paths[0].MaxFileSize);
        Assert.Equal(["sha256", "sha512"], spec.Paths[1].Hashes);
        Assert.Equal(3, spec.Paths[1].MaxDepth);
        Assert.Equal("1h", spec.Schedule.RescanInterval);
        Assert.Equal("full", spec.Schedule.Verify);
        Assert.Equal(200, spec.EventsPerSecond);
        Assert.Null(spec.Severity);
        Assert.Equal("50Mi", spec.Throttle.BytesPerSecond);
        Assert.Equal(10, spec.Throttle.Nice);
    }

    [Fact]
    public void Json_errors_have_lines_too()
    {
        var error = Assert.Throws<PolicyException>(() => PolicyLoader.LoadYaml("""
            {
              "paths": [
                {"path": "/etc", "recursive": "sometimes"}
              ]
            }
            """, "cr.json"));

        Assert.Equal("cr.json:3:35: 'recursive' in paths[0] expects true or false, got 'sometimes'", error.Message);
    }

    [Fact]
    public void Missing_file_is_a_clear_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fim-no-such-policy-{Guid.NewGuid():N}.yaml");

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.LoadFile(path));

        Assert.Equal(path, error.SourceName);
        Assert.Equal($"{path}: cannot read the policy file: the file does not exist", error.Message);
        Assert.Null(error.Line);
    }

    [Fact]
    public void Missing_directory_is_a_clear_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fim-no-such-dir-{Guid.NewGuid():N}", "policy.yaml");

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.LoadFile(path));

        Assert.StartsWith($"{path}: cannot read the policy file: the file does not exist", error.Message);
    }

    [Fact]
    public void A_directory_is_not_a_policy_file()
    {
        using var dir = new TempDirectory();

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.LoadFile(dir.Path));

        Assert.Equal($"{dir.Path}: cannot read the policy file: it is a directory, not a file", error.Message);
    }

    [Fact]
    public void Text_that_is_not_UTF8_is_refused()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("latin1.yaml", [.. "name: caf"u8, 0xe9, .. "\npaths: [{path: /etc}]\n"u8]);

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.LoadFile(path));

        Assert.Contains("not UTF-8 text", error.Message);
        Assert.StartsWith(path, error.Message);
    }

    [Fact]
    public void Oversized_file_is_refused_without_reading_it_whole()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("huge.yaml", Encoding.UTF8.GetBytes("# " + new string('x', PolicyLoader.MaxFileBytes) + "\n"));

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.LoadFile(path));

        Assert.Contains("larger than 4 MiB", error.Message);
    }

    [Fact]
    public void File_errors_carry_the_file_name_and_line()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("policy.yaml", Encoding.UTF8.GetBytes("\uFEFFname: web\npaths: [{path: /etc, depth: 2}]\n"));

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.LoadFile(path));

        Assert.Equal(path, error.SourceName);
        Assert.StartsWith($"{path}:2:22: unknown key 'depth' in paths[0]", error.Message);
    }

    private static PolicyException LoadFails(string yaml) =>
        Assert.Throws<PolicyException>(() => PolicyLoader.LoadYaml(yaml, Source));
}
