using System.Text;
using Fim.Contracts;
using Fim.Core.Sources;
using Fim.Testing;

namespace Fim.Core.Tests.Sources;

public sealed class SecurityDecoderTests
{
    private static DecodeResult Decode(string format, string line) => SecurityDecoder.Decode(format, Encoding.UTF8.GetBytes(line));

    [Fact]
    public void Falco_event_gives_time_rule_priority_output_fields_hostname_tags_and_source()
    {
        var r = Decode(SecurityRecord.Falco, SecuritySamples.FalcoShell).Record!;
        Assert.Equal("falco", r.Format);
        Assert.Equal("Terminal shell in container", r.Title);
        Assert.Equal("Notice", r.Severity);
        Assert.StartsWith("16:31:56.746609046: Notice A shell was spawned", r.Message, StringComparison.Ordinal);
        Assert.Equal("worker-1", r.Hostname);
        Assert.Equal("syscall", r.EventSource);
        Assert.Equal(["container", "mitre_execution", "shell", "T1059"], r.Tags);
        // Nine fraction digits cut to the seven DateTimeOffset holds, not refused.
        Assert.Equal(new DateTimeOffset(2024, 1, 12, 16, 31, 56, TimeSpan.Zero).AddTicks(7466090), r.Time);
        Assert.Equal("bash", r.Fields["output_fields.proc.name"]);
        Assert.Equal("34816", r.Fields["output_fields.proc.tty"]);
        Assert.Equal("Notice", r.Fields["priority"]);
        Assert.Equal("container,mitre_execution,shell,T1059", r.Fields["tags"]);
        Assert.Equal("shell", r.Fields["tags.2"]);
    }

    [Fact]
    public void Prowler_finding_gives_status_severity_title_resource_account_and_region()
    {
        var r = Decode(SecurityRecord.Prowler, SecuritySamples.ProwlerFailHigh).Record!;
        Assert.Equal("FAIL", r.Status);
        Assert.Equal("High", r.Severity);
        Assert.Equal("Check S3 Bucket Level Public Access Block.", r.Title);
        Assert.Equal("arn:aws:s3:::my-bucket", r.Resource);
        Assert.Equal("123456789012", r.CloudAccount);
        Assert.Equal("us-east-1", r.Region);
        Assert.Equal("aws", r.CloudProvider);
        Assert.Equal("S3 Bucket my-bucket has Public Access Block disabled.", r.Message);
        Assert.Equal(new DateTimeOffset(2024, 4, 8, 11, 33, 51, TimeSpan.Zero).AddTicks(8708610), r.Time);
        Assert.Equal("my-bucket", r.Fields["resources.0.name"]);
        Assert.Equal("2.1.5", r.Fields["unmapped.compliance.CIS-1.4"]);
    }

    [Fact]
    public void Findings_written_as_a_JSON_array_one_per_line_are_read_and_the_brackets_skipped()
    {
        Assert.True(Decode(SecurityRecord.Prowler, "[").Skipped);
        Assert.True(Decode(SecurityRecord.Prowler, "]").Skipped);
        Assert.True(Decode(SecurityRecord.Prowler, "   ").Skipped);
        Assert.Equal("PASS", Decode(SecurityRecord.Prowler, SecuritySamples.ProwlerPass + ",").Record!.Status);
    }

    [Fact]
    public void Generic_JSON_keeps_every_scalar_by_its_dotted_path()
    {
        var r = Decode(SecurityRecord.Json, SecuritySamples.GenericJson).Record!;
        Assert.Equal("error", r.Severity);
        Assert.Equal("login failed for admin", r.Message);
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 8, 0, 0, TimeSpan.Zero), r.Time);
        Assert.Equal("admin", r.Fields["user.name"]);
        Assert.Equal("5", r.Fields["attempts"]);
        Assert.Equal("false", r.Fields["ok"]);
    }

    [Theory]
    [InlineData("falco", "{\"rule\":\"x\"", SecurityDecoder.NotJson)]
    [InlineData("falco", "[1,2]", SecurityDecoder.NotObject)]
    [InlineData("falco", "\"text\"", SecurityDecoder.NotObject)]
    [InlineData("falco", "{\"rule\":\"x\"}", SecurityDecoder.MissingField)]
    [InlineData("prowler", "{\"severity\":\"High\"}", SecurityDecoder.MissingField)]
    [InlineData("json", "not json at all", SecurityDecoder.NotJson)]
    public void A_line_that_is_no_record_says_why(string format, string line, string reason)
    {
        var result = Decode(format, line);
        Assert.Null(result.Record);
        Assert.Equal(reason, result.Problem!.Reason);
        Assert.False(string.IsNullOrWhiteSpace(result.Problem.Detail));
    }

    [Fact]
    public void Binary_garbage_is_not_JSON_and_does_not_throw()
    {
        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);
        garbage[0] = (byte)'{';
        var result = SecurityDecoder.Decode(SecurityRecord.Falco, garbage);
        Assert.Equal(SecurityDecoder.NotJson, result.Problem!.Reason);
    }

    [Fact]
    public void A_line_over_the_limit_is_too_long_and_its_content_never_in_the_detail()
    {
        var line = Encoding.UTF8.GetBytes("{\"secret\":\"" + new string('s', SecurityDecoder.MaxLineBytes) + "\"}");
        var result = SecurityDecoder.Decode(SecurityRecord.Json, line);
        Assert.Equal(SecurityDecoder.TooLong, result.Problem!.Reason);
        Assert.DoesNotContain("sss", result.Problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_with_more_fields_than_kept_says_it_was_truncated()
    {
        var line = "{" + string.Join(",", Enumerable.Range(0, SecurityRecord.MaxFields + 10).Select(i => $"\"f{i}\":{i}")) + "}";
        var r = Decode(SecurityRecord.Json, line).Record!;
        Assert.Equal(SecurityRecord.MaxFields, r.Fields.Count);
        Assert.True(r.FieldsTruncated);
    }
}
