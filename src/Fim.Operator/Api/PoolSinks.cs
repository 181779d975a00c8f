using k8s.Models;

namespace Fim.Operator.Api;

[Description("Where the managers send alerts besides the store (docs/manager.md \"Sinks\": webhook, syslog over TLS, email digests, stdout).")]
public sealed class PoolSinks
{
    [Description("ConfigMap whose keys are sink settings as environment variables (Fim__Sinks__Syslog__Host, Fim__Sinks__Email__To__0, ...).")]
    public SecretReference? SettingsConfigMapRef { get; set; }

    [Description("Secret whose keys are secret sink settings as environment variables, such as Fim__Sinks__Webhook__Url (a webhook URL carries its token).")]
    public SecretReference? SettingsSecretRef { get; set; }

    [Description("Secret of the files sink settings name (a private CA, a syslog client certificate and key, the SMTP password), mounted read-only at /etc/fim/sinks: point the settings there, e.g. Fim__Sinks__Email__PasswordFile=/etc/fim/sinks/smtp-password.")]
    public SecretReference? FilesSecretRef { get; set; }
}
