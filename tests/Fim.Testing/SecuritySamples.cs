namespace Fim.Testing;

/// <summary>
/// Lines as the tools write them, after the examples in their public documentation: Falco's JSON output (json_output,
/// http_output, falcosidekick's webhook all send this object), and Prowler's JSON-OCSF findings (OCSF 1.1, Prowler 4),
/// one finding per line. Shared by the decoder, rule, contract, ingest and agent tests.
/// </summary>
public static class SecuritySamples
{
    /// <summary>
    /// The line with its times moved to <paramref name="time"/> (Falco's time, Prowler's time_dt and time): a store keeps
    /// alerts by the record's own time, and the documented samples are older than its retention.
    /// </summary>
    public static string At(string line, DateTimeOffset time)
    {
        line = System.Text.RegularExpressions.Regex.Replace(line, "\"time\":\"[^\"]*\"", $"\"time\":\"{time.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffffff}000Z\"");
        line = System.Text.RegularExpressions.Regex.Replace(line, "\"time_dt\":\"[^\"]*\"", $"\"time_dt\":\"{time.UtcDateTime:yyyy-MM-ddTHH:mm:ss.ffffff}\"");
        return System.Text.RegularExpressions.Regex.Replace(line, "\"time\":[0-9]+", $"\"time\":{time.ToUnixTimeSeconds()}");
    }

    /// <summary>Falco's "Terminal shell in container" at priority Notice, with nine fraction digits in time as Falco writes it.</summary>
    public const string FalcoShell = """{"hostname":"worker-1","output":"16:31:56.746609046: Notice A shell was spawned in a container with an attached terminal (user=root user_loginuid=-1 k8s.ns=default k8s.pod=nginx-7854ff8877-x2j9l container=3ad8ac5b5d6f shell=bash parent=runc cmdline=bash terminal=34816 container_id=3ad8ac5b5d6f image=nginx)","priority":"Notice","rule":"Terminal shell in container","source":"syscall","tags":["container","mitre_execution","shell","T1059"],"time":"2024-01-12T16:31:56.746609046Z","output_fields":{"container.id":"3ad8ac5b5d6f","container.image.repository":"nginx","evt.time":1705077116746609046,"k8s.ns.name":"default","k8s.pod.name":"nginx-7854ff8877-x2j9l","proc.cmdline":"bash","proc.name":"bash","proc.pname":"runc","proc.tty":34816,"user.loginuid":-1,"user.name":"root"}}""";

    /// <summary>Falco's "Read sensitive file untrusted" at priority Warning.</summary>
    public const string FalcoShadow = """{"hostname":"worker-2","output":"09:12:01.000000001: Warning Sensitive file opened for reading by non-trusted program (user=root program=cat command=cat /etc/shadow file=/etc/shadow)","priority":"Warning","rule":"Read sensitive file untrusted","source":"syscall","tags":["filesystem","mitre_credential_access","T1555"],"time":"2024-01-13T09:12:01.000000001Z","output_fields":{"evt.time":1705137121000000001,"fd.name":"/etc/shadow","proc.cmdline":"cat /etc/shadow","proc.name":"cat","user.name":"root"}}""";

    /// <summary>A Falco event at priority Critical.</summary>
    public const string FalcoCritical = """{"hostname":"worker-1","output":"10:00:00.000000000: Critical Executing binary not part of base image (proc_exe=/tmp/x)","priority":"Critical","rule":"Drop and execute new binary in container","source":"syscall","tags":["container","mitre_persistence","TA0003"],"time":"2024-01-14T10:00:00.000000000Z","output_fields":{"evt.time":1705226400000000000,"proc.exe":"/tmp/x","proc.name":"x"}}""";

    /// <summary>A failed Prowler check of severity High: an S3 bucket without its public access block.</summary>
    public const string ProwlerFailHigh = """{"message":"S3 Bucket my-bucket has Public Access Block disabled.","metadata":{"event_code":"s3_bucket_level_public_access_block","product":{"name":"Prowler","vendor_name":"Prowler","version":"4.2.0"},"profiles":["cloud","datetime"],"version":"1.1.0"},"severity_id":4,"severity":"High","status":"New","status_code":"FAIL","status_detail":"S3 Bucket my-bucket has Public Access Block disabled.","status_id":1,"activity_name":"Create","activity_id":1,"finding_info":{"created_time":"2024-04-08T11:33:51.870861","desc":"Check S3 Bucket Level Public Access Block.","title":"Check S3 Bucket Level Public Access Block.","uid":"prowler-aws-s3_bucket_level_public_access_block-123456789012-us-east-1-my-bucket"},"resources":[{"cloud_partition":"aws","region":"us-east-1","data":{"details":""},"group":{"name":"s3"},"labels":[],"name":"my-bucket","type":"AwsS3Bucket","uid":"arn:aws:s3:::my-bucket"}],"category_name":"Findings","category_uid":2,"class_name":"DetectionFinding","class_uid":2004,"cloud":{"account":{"name":"","type":"AWS_Account","type_id":10,"uid":"123456789012","labels":[]},"org":{"name":"","uid":""},"provider":"aws","region":"us-east-1"},"event_time":"2024-04-08T11:33:51.870861","remediation":{"desc":"Enable the S3 bucket level public access block.","references":["https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"]},"risk_details":"Public access policies may be applied to sensitive data buckets.","time":1712576031,"time_dt":"2024-04-08T11:33:51.870861","type_uid":200401,"type_name":"Create","unmapped":{"check_type":"","related_url":"","categories":"","depends_on":"","related_to":"","notes":"","compliance":{"CIS-1.4":["2.1.5"]}}}""";

    /// <summary>A passed Prowler check (severity Medium): stored, not alerted.</summary>
    public const string ProwlerPass = """{"message":"IAM password policy requires at least one uppercase letter.","metadata":{"event_code":"iam_password_policy_uppercase","product":{"name":"Prowler","vendor_name":"Prowler","version":"4.2.0"},"version":"1.1.0"},"severity_id":3,"severity":"Medium","status":"New","status_code":"PASS","status_detail":"IAM password policy requires at least one uppercase letter.","status_id":1,"finding_info":{"created_time":"2024-04-08T11:33:52.000000","desc":"Ensure IAM password policy requires at least one uppercase letter.","title":"Ensure IAM password policy requires at least one uppercase letter","uid":"prowler-aws-iam_password_policy_uppercase-123456789012-us-east-1-123456789012"},"resources":[{"cloud_partition":"aws","region":"us-east-1","group":{"name":"iam"},"labels":[],"name":"123456789012","type":"AwsAccount","uid":"arn:aws:iam:us-east-1:123456789012:root"}],"class_name":"DetectionFinding","class_uid":2004,"cloud":{"account":{"name":"","type":"AWS_Account","type_id":10,"uid":"123456789012","labels":[]},"provider":"aws","region":"us-east-1"},"time":1712576032,"time_dt":"2024-04-08T11:33:52.000000"}""";

    /// <summary>A failed Prowler check of severity Critical, in another account and region.</summary>
    public static string ProwlerFail(string severity, string resource, string account = "210987654321", string region = "eu-west-1") =>
        $$"""{"message":"Security group {{resource}} allows 0.0.0.0/0 to port 22.","metadata":{"event_code":"ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22","product":{"name":"Prowler","vendor_name":"Prowler","version":"4.2.0"},"version":"1.1.0"},"severity":"{{severity}}","status_code":"FAIL","status_detail":"Security group {{resource}} allows 0.0.0.0/0 to port 22.","finding_info":{"title":"Ensure no security groups allow ingress from 0.0.0.0/0 to port 22.","uid":"prowler-aws-ec2-{{account}}-{{region}}-{{resource}}"},"resources":[{"region":"{{region}}","name":"{{resource}}","type":"AwsEc2SecurityGroup","uid":"arn:aws:ec2:{{region}}:{{account}}:security-group/{{resource}}"}],"class_uid":2004,"cloud":{"account":{"type":"AWS_Account","uid":"{{account}}"},"provider":"aws","region":"{{region}}"},"time":1712576033,"time_dt":"2024-04-08T11:33:53.000000"}""";

    /// <summary>A line of an application's own JSON log, for the generic decoder.</summary>
    public const string GenericJson = """{"@timestamp":"2024-05-01T08:00:00Z","level":"error","message":"login failed for admin","user":{"name":"admin"},"attempts":5,"ok":false}""";
}
