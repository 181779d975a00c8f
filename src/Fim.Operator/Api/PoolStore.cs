namespace Fim.Operator.Api;

[Description("The managers' alert store (docs/store.md): PostgreSQL (any number of managers index) or SQLite on a volume (exactly one manager). Absent: treated as sqlite: {} (SQLite on a claim the operator creates, one manager, no autoscaler; the pool's StoreDefaulted condition says so); set postgres to autoscale.")]
[ValidationRule("has(self.postgres) != has(self.sqlite)", "store: set exactly one of store.postgres or store.sqlite")]
public sealed class PoolStore
{
    public PoolPostgresStore? Postgres { get; set; }

    public PoolSqliteStore? Sqlite { get; set; }

    [Range(1, 36500), Description("Days alerts are kept in the store (Fim:Store:RetentionDays; the manager's default is 400, PCI DSS 10.5.1 asks for a year).")]
    public int? RetentionDays { get; set; }
}

[Description("PostgreSQL: the connection string from a Secret key (never inline), or a CloudNativePG Cluster in the pool's namespace whose <cluster>-app Secret gives host, port, dbname, username and password.")]
[ValidationRule("has(self.connectionSecretRef) != has(self.cnpgCluster)", "store.postgres: set exactly one of connectionSecretRef or cnpgCluster")]
public sealed class PoolPostgresStore
{
    [Description("Secret key holding an Npgsql connection string (Host=...;Database=...;Username=...;Password=...).")]
    public SecretKeyReference? ConnectionSecretRef { get; set; }

    [Description("Name of a CloudNativePG Cluster (postgresql.cnpg.io/v1) in the pool's namespace: the managers use its <cluster>-app Secret and, unless tls says otherwise, verify-full against the CA in its <cluster>-ca Secret."),
     Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    public string? CnpgCluster { get; set; }

    public PoolPostgresTls? Tls { get; set; }
}

[Description("TLS to PostgreSQL.")]
[ValidationRule("!(has(self.caSecretRef) && has(self.caConfigMapRef))", "store.postgres.tls: set at most one of caSecretRef or caConfigMapRef")]
[ValidationRule("!(self.sslMode in ['verify-ca', 'verify-full']) || has(self.caSecretRef) || has(self.caConfigMapRef)", "store.postgres.tls: sslMode verify-ca and verify-full need caSecretRef or caConfigMapRef")]
public sealed class PoolPostgresTls
{
    [RequiredField, EnumValues("disable", "allow", "prefer", "require", "verify-ca", "verify-full"), Description("libpq's sslmode (Fim:Store:SslMode).")]
    public string SslMode { get; set; } = "verify-full";

    [Description("Secret key holding the CA certificate (PEM) the server's certificate is verified against.")]
    public SecretKeyReference? CaSecretRef { get; set; }

    [Description("ConfigMap key holding the CA certificate (PEM).")]
    public ConfigMapKeyReference? CaConfigMapRef { get; set; }
}

[Description("SQLite on a PersistentVolumeClaim: exactly one manager indexes a SQLite file, so the pool runs one replica (replicas.max above 1 is refused) and no autoscaler.")]
[ValidationRule("!has(self.existingClaim) || (!has(self.size) && !has(self.storageClassName))", "store.sqlite: size and storageClassName are for the claim the operator creates; leave them out with existingClaim")]
public sealed class PoolSqliteStore
{
    [Description("An existing PersistentVolumeClaim in the pool's namespace; absent: the operator creates one named like the pool (deleted with the pool)."),
     Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    public string? ExistingClaim { get; set; }

    [Description("Size of the claim the operator creates (default 10Gi).")]
    public k8s.Models.ResourceQuantity? Size { get; set; }

    [Description("StorageClass of the claim the operator creates (absent: the cluster's default)."), Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    public string? StorageClassName { get; set; }
}

/// <summary>A key of a Secret in the same namespace.</summary>
public sealed class SecretKeyReference
{
    [RequiredField, Description("Secret name in the pool's namespace."), Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    public string Name { get; set; } = "";

    [RequiredField, Description("Key in the Secret."), Pattern("^[-._a-zA-Z0-9]+$")]
    public string Key { get; set; } = "";
}

/// <summary>A key of a ConfigMap in the same namespace.</summary>
public sealed class ConfigMapKeyReference
{
    [RequiredField, Description("ConfigMap name in the pool's namespace."), Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    public string Name { get; set; } = "";

    [RequiredField, Description("Key in the ConfigMap."), Pattern("^[-._a-zA-Z0-9]+$")]
    public string Key { get; set; } = "";
}
