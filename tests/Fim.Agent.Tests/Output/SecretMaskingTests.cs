using Fim.Nats;

namespace Fim.Agent.Tests.Output;

public class SecretMaskingTests
{
    [Theory]
    [InlineData("nats://alice:pw@host:4222", "nats://alice:***@host:4222")]
    [InlineData("nats://token-only@host:4222", "nats://***@host:4222")]
    [InlineData("nats://alice:p@ss:w/rd@host:4222", "nats://alice:***@host:4222")]
    [InlineData("nats://alice:pw@host:99999", "nats://alice:***@host:99999")]
    [InlineData("tls://a:1@h1:4222,nats://h2:4222, nats://b:2@h3", "tls://a:***@h1:4222,nats://h2:4222, nats://b:***@h3")]
    [InlineData("https://hooks.example/x?token=abc&channel=ops", "https://hooks.example/x?token=***&channel=ops")]
    [InlineData("https://h/x?a=1&client_secret=s3&sig=zz", "https://h/x?a=1&client_secret=***&sig=***")]
    [InlineData("alice:pw@host:4222", "alice:***@host:4222")]
    public void Masks_passwords_tokens_and_secret_query_values(string url, string logged)
    {
        Assert.Equal(logged, SecretMasking.MaskUrl(url));
    }

    [Theory]
    [InlineData("nats://nats.fim-system:4222")]
    [InlineData("nats://127.0.0.1:4222,tls://h:4222")]
    [InlineData("https://hooks.example/path?channel=ops")]
    [InlineData("")]
    public void Leaves_urls_without_secrets_as_they_are(string url) => Assert.Equal(url, SecretMasking.MaskUrl(url));

    [Fact]
    public void Null_is_empty() => Assert.Equal("", SecretMasking.MaskUrl(null));

    [Fact]
    public void The_options_description_masks_the_url()
    {
        var o = new NatsClientOptions { Url = "nats://alice:hunter2@h:4222", Name = "x" };
        Assert.DoesNotContain("hunter2", o.ToString());
    }
}
