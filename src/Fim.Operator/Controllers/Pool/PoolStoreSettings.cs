using System.Globalization;
using Fim.Operator.Api;
using k8s.Models;

namespace Fim.Operator.Controllers.Pool;

/// <summary>
/// What a pool's <see cref="PoolStore"/> gives its managers: the Fim__Store__* settings, every secret one as a
/// secretKeyRef (so no connection string or password is in the Deployment, the operator's cache or its logs), the CA
/// as a file, and for SQLite the volume and the one-replica rule (one manager indexes a SQLite file).
/// </summary>
public static class PoolStoreSettings
{
    public const string DataDirectory = "/var/lib/fim-manager";
    public const string CaDirectory = "/etc/fim/store-ca";
    public const string CaFile = "ca.crt";
    public const string StoreVolume = "store";
    public const string CaVolume = "store-ca";
    public const string DefaultSqliteSize = "10Gi";

    /// <summary>The manager image's group (deploy/docker/Dockerfile.manager): the claim is made writable for it.</summary>
    public const long ManagerGroup = 65532;

    /// <summary>CloudNativePG's application Secret (basic-auth; keys host, port, dbname, username, password, uri, ...).</summary>
    public static string CnpgAppSecret(string cluster) => cluster + "-app";

    /// <summary>CloudNativePG's generated server CA Secret (key ca.crt).</summary>
    public static string CnpgCaSecret(string cluster) => cluster + "-ca";

    /// <summary>Manager setting -> key of the CloudNativePG app Secret.</summary>
    public static readonly IReadOnlyList<(string Setting, string Key)> CnpgAppKeys =
    [
        ("Host", "host"),
        ("Port", "port"),
        ("Database", "dbname"),
        ("Username", "username"),
        ("Password", "password"),
    ];

    /// <summary>
    /// The store the managers use: as given, else SQLite on a claim the operator creates (the issue's embedded default),
    /// because the manager's own default directory is on the pod's read-only root file system and its audit log is
    /// fail-closed: a pool without a writable store would index nothing and refuse every mutating call.
    /// </summary>
    public static PoolStore Effective(FimManagerPoolSpec spec) => spec.Store ?? new PoolStore { Sqlite = new PoolSqliteStore() };

    /// <summary>True when the spec names no store and the SQLite default applies.</summary>
    public static bool IsDefaulted(FimManagerPoolSpec spec) => spec.Store is null;

    public static bool IsSqlite(FimManagerPoolSpec spec) => Effective(spec).Sqlite is not null;

    /// <summary>The status message for a pool that names no store.</summary>
    public static string DefaultedMessage(FimManagerPool pool) =>
        $"no store given: SQLite on claim {ClaimName(pool)}, one manager"
        + (pool.Spec.Autoscaling is { Provider: not PoolAutoscaling.NoProvider } a ? $"; spec.autoscaling ({a.Provider}) is not applied" : "")
        + "; set spec.store.postgres to autoscale";

    /// <summary>The pool's replicas: as given, else 1..1 on SQLite and the CRD's defaults otherwise.</summary>
    public static PoolReplicas Replicas(FimManagerPoolSpec spec) =>
        spec.Replicas ?? (IsSqlite(spec) ? new PoolReplicas { Min = 1, Max = 1 } : new PoolReplicas());

    /// <summary>TLS as given; for a CloudNativePG cluster without tls, verify-full against the cluster's own CA.</summary>
    public static PoolPostgresTls? Tls(PoolPostgresStore postgres) =>
        postgres.Tls ?? (postgres.CnpgCluster is { } cluster
            ? new PoolPostgresTls { SslMode = "verify-full", CaSecretRef = new SecretKeyReference { Name = CnpgCaSecret(cluster), Key = CaFile } }
            : null);

    /// <summary>The claim the managers mount (SQLite only): the existing one, or the one the operator creates, named like the pool.</summary>
    public static string? ClaimName(FimManagerPool pool) =>
        Effective(pool.Spec).Sqlite is { } sqlite ? sqlite.ExistingClaim ?? pool.Metadata.Name : null;

    /// <summary>Cross-field problems the CRD's CEL rules also catch; none = valid.</summary>
    public static IReadOnlyList<string> Problems(FimManagerPoolSpec spec)
    {
        var problems = new List<string>();
        var store = Effective(spec);

        if ((store.Postgres is null) == (store.Sqlite is null))
        {
            problems.Add("store: set exactly one of store.postgres or store.sqlite");
        }

        if (store.Postgres is { } pg)
        {
            if ((pg.ConnectionSecretRef is null) == (pg.CnpgCluster is null))
            {
                problems.Add("store.postgres: set exactly one of connectionSecretRef or cnpgCluster");
            }

            if (pg.Tls is { } tls)
            {
                if (tls.CaSecretRef is not null && tls.CaConfigMapRef is not null)
                {
                    problems.Add("store.postgres.tls: set at most one of caSecretRef or caConfigMapRef");
                }
                else if (tls.SslMode is "verify-ca" or "verify-full" && tls.CaSecretRef is null && tls.CaConfigMapRef is null)
                {
                    problems.Add("store.postgres.tls: sslMode verify-ca and verify-full need caSecretRef or caConfigMapRef");
                }
            }
        }

        if (store.Sqlite is { } sqlite)
        {
            if (sqlite.ExistingClaim is not null && (sqlite.Size is not null || sqlite.StorageClassName is not null))
            {
                problems.Add("store.sqlite: size and storageClassName are for the claim the operator creates; leave them out with existingClaim");
            }

            if (spec.Replicas is { } r && (r.Max > 1 || r.Min > 1))
            {
                problems.Add(IsDefaulted(spec)
                    ? $"no store given, so SQLite on a claim, which needs exactly one replica (one manager indexes a SQLite file): set replicas.min and replicas.max to 1 (got {r.Min}..{r.Max}), or set store.postgres to run more"
                    : $"store.sqlite needs exactly one replica (one manager indexes a SQLite file): set replicas.min and replicas.max to 1 (got {r.Min}..{r.Max}), or use store.postgres to run more");
            }

            // A pool from before stores existed may autoscale and name no store: it keeps running (one manager), and
            // StoreDefaulted says its autoscaling is not applied. A pool that names SQLite and autoscaling contradicts itself.
            if (!IsDefaulted(spec) && spec.Autoscaling is { Provider: not PoolAutoscaling.NoProvider } a)
            {
                problems.Add($"store.sqlite runs one manager, so autoscaling (provider {a.Provider}) would scale nothing: remove autoscaling (or set its provider to none), or use store.postgres to autoscale");
            }
        }

        return problems;
    }

    /// <summary>Every Secret key the store settings read, with the field that names it.</summary>
    public static IReadOnlyList<(string Field, string Secret, string Key)> SecretKeys(FimManagerPoolSpec spec)
    {
        var keys = new List<(string, string, string)>();
        if (spec.Store?.Postgres is not { } pg)
        {
            return keys;
        }

        if (pg.ConnectionSecretRef is { } conn)
        {
            keys.Add(("store.postgres.connectionSecretRef", conn.Name, conn.Key));
        }

        if (pg.CnpgCluster is { } cluster)
        {
            keys.AddRange(CnpgAppKeys.Select(k => ("store.postgres.cnpgCluster", CnpgAppSecret(cluster), k.Key)));
        }

        if (Tls(pg)?.CaSecretRef is { } ca)
        {
            keys.Add((pg.Tls is null ? "store.postgres.cnpgCluster" : "store.postgres.tls.caSecretRef", ca.Name, ca.Key));
        }

        return keys;
    }

    /// <summary>
    /// The store's Secrets or keys that are not there (<paramref name="keysOf"/>: a Secret's key names, null when it
    /// does not exist), one message each; the pods could not start without them.
    /// </summary>
    public static IReadOnlyList<string> Missing(FimManagerPool pool, Func<string, IReadOnlyCollection<string>?> keysOf)
    {
        var ns = pool.Metadata.NamespaceProperty;
        var missing = new List<string>();
        foreach (var group in SecretKeys(pool.Spec).GroupBy(k => (k.Field, k.Secret)))
        {
            var (field, secret) = group.Key;
            if (keysOf(secret) is not { } present)
            {
                missing.Add($"Secret {ns}/{secret} ({field}) not found");
                continue;
            }

            var absent = group.Select(k => k.Key).Where(k => !present.Contains(k)).ToList();
            if (absent.Count > 0)
            {
                missing.Add($"Secret {ns}/{secret} ({field}) has no key {string.Join(", ", absent.Select(k => $"'{k}'"))}");
            }
        }

        return missing;
    }

    /// <summary>The managers' store settings, volumes and mounts.</summary>
    public static void Add(FimManagerPool pool, List<V1EnvVar> env, List<V1Volume> volumes, List<V1VolumeMount> mounts)
    {
        var store = Effective(pool.Spec);

        if (store.Postgres is { } pg)
        {
            env.Add(new V1EnvVar { Name = "Fim__Store__Backend", Value = "postgres" });
            if (pg.ConnectionSecretRef is { } conn)
            {
                env.Add(SecretEnv("Fim__Store__ConnectionString", conn.Name, conn.Key));
            }

            if (pg.CnpgCluster is { } cluster)
            {
                env.AddRange(CnpgAppKeys.Select(k => SecretEnv($"Fim__Store__{k.Setting}", CnpgAppSecret(cluster), k.Key)));
            }

            if (Tls(pg) is { } tls)
            {
                env.Add(new V1EnvVar { Name = "Fim__Store__SslMode", Value = tls.SslMode });
                var items = (string key) => new List<V1KeyToPath> { new() { Key = key, Path = CaFile } };
                V1Volume? ca = tls.CaSecretRef is { } s
                    ? new V1Volume { Name = CaVolume, Secret = new V1SecretVolumeSource { SecretName = s.Name, Items = items(s.Key) } }
                    : tls.CaConfigMapRef is { } c
                        ? new V1Volume { Name = CaVolume, ConfigMap = new V1ConfigMapVolumeSource { Name = c.Name, Items = items(c.Key) } }
                        : null;
                if (ca is not null)
                {
                    env.Add(new V1EnvVar { Name = "Fim__Store__RootCertificateFile", Value = $"{CaDirectory}/{CaFile}" });
                    volumes.Add(ca);
                    mounts.Add(new V1VolumeMount { Name = CaVolume, MountPath = CaDirectory, ReadOnlyProperty = true });
                }
            }
        }
        else if (ClaimName(pool) is { } claim)
        {
            env.Add(new V1EnvVar { Name = "Fim__Store__Backend", Value = "sqlite" });
            env.Add(new V1EnvVar { Name = "Fim__Store__DataDirectory", Value = DataDirectory });
            volumes.Add(new V1Volume { Name = StoreVolume, PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = claim } });
            mounts.Add(new V1VolumeMount { Name = StoreVolume, MountPath = DataDirectory });
        }

        if (store.RetentionDays is { } days)
        {
            env.Add(new V1EnvVar { Name = "Fim__Store__RetentionDays", Value = days.ToString(CultureInfo.InvariantCulture) });
        }
    }

    /// <summary>The claim the operator creates for SQLite (none with existingClaim or PostgreSQL).</summary>
    public static V1PersistentVolumeClaim? Claim(FimManagerPool pool, V1ObjectMeta meta) =>
        Effective(pool.Spec).Sqlite is { ExistingClaim: null } sqlite
            ? new V1PersistentVolumeClaim
            {
                ApiVersion = "v1",
                Kind = "PersistentVolumeClaim",
                Metadata = meta,
                Spec = new V1PersistentVolumeClaimSpec
                {
                    AccessModes = ["ReadWriteOnce"],
                    StorageClassName = sqlite.StorageClassName,
                    Resources = new V1VolumeResourceRequirements
                    {
                        Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = sqlite.Size ?? new ResourceQuantity(DefaultSqliteSize) },
                    },
                },
            }
            : null;

    private static V1EnvVar SecretEnv(string name, string secret, string key) => new()
    {
        Name = name,
        ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = key } },
    };
}
