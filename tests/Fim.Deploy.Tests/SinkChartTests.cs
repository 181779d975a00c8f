using System.Text.Json.Nodes;

namespace Fim.Deploy.Tests;

/// <summary>
/// The chart's alert sink values: plain settings rendered as the managers' environment in a ConfigMap, the user's
/// Secrets referenced from the FimManagerPool (which mounts the files one at /etc/fim/sinks), and secrets or names that
/// cannot be settings refused at render time.
/// </summary>
public sealed class SinkChartTests
{
    private static readonly string[] Sinks =
    [
        "managerPool.sinks.settings.Syslog.Host=siem.example.com",
        "managerPool.sinks.settings.Syslog.CaFile=/etc/fim/sinks/siem-ca.pem",
        "managerPool.sinks.settings.Syslog.MinLevel=7",
        "managerPool.sinks.settings.Email.Host=smtp.example.com",
        "managerPool.sinks.settings.Email.To={secops@example.com,audit@example.com}",
        "managerPool.sinks.settings.Email.PasswordFile=/etc/fim/sinks/smtp-password",
        "managerPool.sinks.settingsSecretName=fim-sink-secrets",
        "managerPool.sinks.filesSecretName=fim-sink-files",
    ];

    private static JsonObject Json(string doc) => (JsonObject)StrictValidation.ToJson(HelmRender.Parse(doc))!;

    [Fact]
    public void Settings_become_the_managers_environment_and_the_pool_refers_to_the_users_secrets()
    {
        var docs = HelmRender.Render(Sinks);
        var pool = (JsonObject)Json(docs.Single(d => HelmRender.Id(d).Kind == "FimManagerPool"))["spec"]!;
        var configName = (string)pool["sinks"]!["settingsConfigMapRef"]!["name"]!;
        var config = Json(docs.Single(d => HelmRender.Id(d) is { Kind: "ConfigMap" } id && id.Name == configName));

        Assert.Equal(
            """{"Fim__Sinks__Email__Host":"smtp.example.com","Fim__Sinks__Email__PasswordFile":"/etc/fim/sinks/smtp-password","Fim__Sinks__Email__To__0":"secops@example.com","Fim__Sinks__Email__To__1":"audit@example.com","Fim__Sinks__Syslog__CaFile":"/etc/fim/sinks/siem-ca.pem","Fim__Sinks__Syslog__Host":"siem.example.com","Fim__Sinks__Syslog__MinLevel":"7"}""",
            config["data"]!.ToJsonString());
        Assert.Equal("fim-sink-secrets", (string?)pool["sinks"]!["settingsSecretRef"]!["name"]);
        Assert.Equal("fim-sink-files", (string?)pool["sinks"]!["filesSecretRef"]!["name"]);
    }

    [Fact]
    public void Without_sink_values_there_is_no_sink_ConfigMap_and_no_sinks_in_the_pool()
    {
        var docs = HelmRender.Render();
        var pool = (JsonObject)Json(docs.Single(d => HelmRender.Id(d).Kind == "FimManagerPool"))["spec"]!;
        Assert.False(pool.ContainsKey("sinks"));
        Assert.DoesNotContain(docs, d => HelmRender.Id(d) is { Kind: "ConfigMap" } id && id.Name.EndsWith("-sinks", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("managerPool.sinks.settings.Webhook.Url=https://hooks.example.com/T0/B0/secret", "managerPool.sinks.settings.Webhook.Url: a webhook URL carries its token")]
    [InlineData("managerPool.sinks.settings.webhook.url=https://hooks.example.com/T0/B0/secret", "put it in your Secret managerPool.sinks.settingsSecretName as key Fim__Sinks__Webhook__Url")]
    [InlineData("managerPool.sinks.settings.Syslog.Ca-File=/x", "managerPool.sinks.settings.Syslog: the key 'Ca-File' is not a setting name")]
    [InlineData("managerPool.sinks.filesSecretName=Not_A_Name", "/managerPool/sinks/filesSecretName")]
    public void Secrets_and_impossible_names_fail_the_render_saying_what_to_change(string set, string expected)
    {
        var r = HelmRender.Template(set);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("B0/secret", r.Stdout, StringComparison.Ordinal);
    }
}
