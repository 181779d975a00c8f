using Fim.Core.Policy;

namespace Fim.Core.Tests.Policy;

public sealed class SourcesPolicyTests
{
    private static CompiledPolicy Compile(string yaml) => PolicyCompiler.Compile(PolicyLoader.LoadYaml(yaml, "test.yaml"));

    [Fact]
    public void A_policy_of_sources_alone_is_valid_and_its_globs_match_file_names()
    {
        var p = Compile("""
            name: prowler
            sources:
              - path: /var/log/prowler/*.ocsf.json
                format: prowler
              - path: /var/log/falco/events.json
                format: falco
            """);
        Assert.Empty(p.Rules);
        Assert.Equal(["/var/log/prowler", "/var/log/falco"], p.Sources.Select(s => s.Directory));
        Assert.True(p.Sources[0].Matches("scan-2024.ocsf.json"));
        Assert.False(p.Sources[0].Matches("scan-2024.ocsf.json.1"));
        Assert.True(p.Sources[1].Matches("events.json"));
        Assert.Equal("falco", p.Sources[1].Format);
        // Kept when the agent moves the policy under its host root (the tailer adds the root when it reads).
        Assert.Same(p.Sources, p.UnderRoot("/host").Sources);
    }

    [Theory]
    [InlineData("sources: [{ path: /var/log/x.json, format: syslog }]", "sources[0].format", "must be one of prowler, falco, json")]
    [InlineData("sources: [{ path: var/log/x.json, format: json }]", "sources[0].path", "must be an absolute path")]
    [InlineData("sources: [{ path: /var/*/x.json, format: json }]", "sources[0].path", "only the file name may hold wildcards")]
    [InlineData("sources: [{ path: /a.json, format: json }, { path: /a.json, format: falco }]", "sources[1].path", "listed twice")]
    [InlineData("name: none", "paths", "or a source to tail")]
    public void A_bad_source_is_refused_naming_the_field(string yaml, string field, string detail)
    {
        var e = Assert.ThrowsAny<PolicyException>(() => Compile(yaml));
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
        Assert.Contains(detail, e.Message, StringComparison.Ordinal);
    }
}
