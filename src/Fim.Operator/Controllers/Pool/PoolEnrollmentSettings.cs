using System.Globalization;
using Fim.Operator.Api;
using k8s.Models;

namespace Fim.Operator.Controllers.Pool;

/// <summary>
/// What a pool with <see cref="PoolEnrollment"/> gives its managers: the Secret from `fim-manager enrollment-init` as
/// files (never environment variables, which show in `kubectl describe` and crash dumps), the Fim__Enrollment__*
/// settings naming them, and the managers' NATS login from the same Secret (operator/JWT mode needs a creds file).
/// </summary>
public static class PoolEnrollmentSettings
{
    public const string Dir = "/etc/fim/enrollment";
    public const string Volume = "enrollment";

    public static void Add(PoolEnrollment enrollment, List<V1EnvVar> env, List<V1Volume> volumes, List<V1VolumeMount> mounts)
    {
        env.AddRange(
        [
            new V1EnvVar { Name = "Fim__Enrollment__Enabled", Value = "true" },
            new V1EnvVar { Name = "Fim__Enrollment__OperatorSeedFile", Value = $"{Dir}/{PoolEnrollment.OperatorSeedKey}" },
            new V1EnvVar { Name = "Fim__Enrollment__AccountSeedFile", Value = $"{Dir}/{PoolEnrollment.AccountSeedKey}" },
            new V1EnvVar { Name = "Fim__Enrollment__SystemCredsFile", Value = $"{Dir}/{PoolEnrollment.SystemCredsKey}" },
            new V1EnvVar { Name = "Fim__Enrollment__JoinTokenFile", Value = $"{Dir}/{PoolEnrollment.JoinTokenKey}" },
            new V1EnvVar { Name = "Fim__Enrollment__JoinTokenFileUses", Value = enrollment.JoinTokenUses.ToString(CultureInfo.InvariantCulture) },
            new V1EnvVar { Name = "Fim__Enrollment__JoinTokenFileTtl", Value = TimeSpan.FromDays(enrollment.JoinTokenDays).ToString("c", CultureInfo.InvariantCulture) },
            new V1EnvVar { Name = "Fim__Enrollment__RequireSignatures", Value = enrollment.RequireSignatures ? "true" : "false" },
            new V1EnvVar { Name = "Fim__Nats__CredsFile", Value = $"{Dir}/{PoolEnrollment.ManagerCredsKey}" },
        ]);
        // Read-only for the container's only user (the manager runs as a non-root uid the image picks, with no fsGroup).
        volumes.Add(new V1Volume { Name = Volume, Secret = new V1SecretVolumeSource { SecretName = enrollment.SecretRef.Name, DefaultMode = 0b100_100_100 } });
        mounts.Add(new V1VolumeMount { Name = Volume, MountPath = Dir, ReadOnlyProperty = true });
    }
}
