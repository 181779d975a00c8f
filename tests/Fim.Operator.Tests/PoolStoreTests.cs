using Fim.Operator.Api;
using Fim.Operator.Controllers.Pool;
using Fim.Operator.Crds;
using Fim.Operator.Runtime;
using Fim.Operator.Tests.Support;
using Fim.Testing;
using k8s;
using k8s.Models;
using Xunit.Abstractions;

namespace Fim.Operator.Tests;

/// <summary>A pool's alert store: the rendered manager settings per backend, the one-replica rule on SQLite, and the store's Secrets.</summary>
public sealed class PoolStoreTests(ITestOutputHelper output)
{
    private const string Ns = "default";

    private static FimManagerPool Pool(PoolStore? store, Action<FimManagerPoolSpec>? edit = null)
    {
        var pool = Samples.Stored(Samples.Pool());
        pool.Spec.Store = store;
        if (store?.Sqlite is not null)
        {
            // The sample autoscales; a pool that names SQLite cannot (one manager).
            pool.Spec.Autoscaling = null;
        }
        edit?.Invoke(pool.Spec);
        return pool;
    }

    private static V1Container Manager(PoolChildren c) => Assert.Single(c.Deployment.Spec.Template.Spec.Containers);

    private static V1EnvVar Env(V1Container c, string name) => Assert.Single(c.Env, e => e.Name == name);

    private static void AssertFromSecret(V1Container c, string name, string secret, string key)
    {
        var e = Env(c, name);
        Assert.Null(e.Value);
        Assert.Equal((secret, key), (e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key));
    }

    [Fact]
    public void Postgres_from_a_secret_key_reaches_the_manager_as_a_secretKeyRef_and_nothing_is_scaled_differently()
    {
        var pool = Pool(new PoolStore
        {
            Postgres = new PoolPostgresStore { ConnectionSecretRef = new SecretKeyReference { Name = "fim-db", Key = "connection" } },
            RetentionDays = 365,
        });
        var c = PoolDesiredState.Build(pool);
        var m = Manager(c);
        Assert.Equal("postgres", Env(m, "Fim__Store__Backend").Value);
        AssertFromSecret(m, "Fim__Store__ConnectionString", "fim-db", "connection");
        Assert.Equal("365", Env(m, "Fim__Store__RetentionDays").Value);
        Assert.DoesNotContain(m.Env, e => e.Name is "Fim__Store__SslMode" or "Fim__Store__DataDirectory");
        Assert.Null(c.Claim);
        Assert.NotNull(c.Autoscaler); // any number of managers index PostgreSQL
        Assert.Null(c.Deployment.Spec.Strategy);
        Assert.Empty(PoolDesiredState.SpecProblems(pool.Spec));
        Assert.Contains("fim-db", PoolDesiredState.WatchedSecrets(pool.Spec));
    }

    [Fact]
    public void A_CloudNativePG_cluster_gives_its_app_secret_keys_and_verify_full_against_its_CA()
    {
        var c = PoolDesiredState.Build(Pool(new PoolStore { Postgres = new PoolPostgresStore { CnpgCluster = "fim-db" } }));
        var m = Manager(c);
        AssertFromSecret(m, "Fim__Store__Host", "fim-db-app", "host");
        AssertFromSecret(m, "Fim__Store__Port", "fim-db-app", "port");
        AssertFromSecret(m, "Fim__Store__Database", "fim-db-app", "dbname");
        AssertFromSecret(m, "Fim__Store__Username", "fim-db-app", "username");
        AssertFromSecret(m, "Fim__Store__Password", "fim-db-app", "password");
        Assert.DoesNotContain(m.Env, e => e.Name == "Fim__Store__ConnectionString");
        Assert.Equal("verify-full", Env(m, "Fim__Store__SslMode").Value);
        Assert.Equal("/etc/fim/store-ca/ca.crt", Env(m, "Fim__Store__RootCertificateFile").Value);
        var ca = Assert.Single(c.Deployment.Spec.Template.Spec.Volumes, v => v.Name == "store-ca");
        Assert.Equal("fim-db-ca", ca.Secret.SecretName);
        Assert.Equal(("ca.crt", "ca.crt"), (ca.Secret.Items.Single().Key, ca.Secret.Items.Single().Path));
        Assert.True(Assert.Single(m.VolumeMounts, v => v.Name == "store-ca").ReadOnlyProperty);

        // TLS given explicitly wins: a CA from a ConfigMap key.
        var own = PoolDesiredState.Build(Pool(new PoolStore
        {
            Postgres = new PoolPostgresStore
            {
                CnpgCluster = "fim-db",
                Tls = new PoolPostgresTls { SslMode = "verify-ca", CaConfigMapRef = new ConfigMapKeyReference { Name = "corp-ca", Key = "root.pem" } },
            },
        }));
        Assert.Equal("verify-ca", Env(Manager(own), "Fim__Store__SslMode").Value);
        var cm = Assert.Single(own.Deployment.Spec.Template.Spec.Volumes, v => v.Name == "store-ca");
        Assert.Equal(("corp-ca", "root.pem", "ca.crt"), (cm.ConfigMap.Name, cm.ConfigMap.Items.Single().Key, cm.ConfigMap.Items.Single().Path));
    }

    [Fact]
    public void Sqlite_runs_one_manager_on_a_claim_without_an_autoscaler_and_more_replicas_are_refused()
    {
        var pool = Pool(new PoolStore { Sqlite = new PoolSqliteStore { Size = new ResourceQuantity("20Gi"), StorageClassName = "gp3" } }, s => s.Replicas = null);
        var c = PoolDesiredState.Build(pool);
        var m = Manager(c);
        Assert.Equal("sqlite", Env(m, "Fim__Store__Backend").Value);
        Assert.Equal("/var/lib/fim-manager", Env(m, "Fim__Store__DataDirectory").Value);
        Assert.Equal("/var/lib/fim-manager", Assert.Single(m.VolumeMounts, v => v.Name == "store").MountPath);
        Assert.Equal("managers", Assert.Single(c.Deployment.Spec.Template.Spec.Volumes, v => v.Name == "store").PersistentVolumeClaim.ClaimName);
        Assert.Equal(1, c.Deployment.Spec.Replicas);
        Assert.Equal("Recreate", c.Deployment.Spec.Strategy.Type);
        Assert.Equal(65532L, c.Deployment.Spec.Template.Spec.SecurityContext.FsGroup);
        Assert.Null(c.Autoscaler);
        Assert.Null(c.ScaledObject);
        var claim = Assert.IsType<V1PersistentVolumeClaim>(c.Claim);
        Assert.Equal(("managers", "gp3", "20Gi"), (claim.Metadata.Name, claim.Spec.StorageClassName, claim.Spec.Resources.Requests["storage"].ToString()));
        Assert.Equal(["ReadWriteOnce"], claim.Spec.AccessModes);
        Assert.Equal("uid-1", claim.Metadata.OwnerReferences.Single().Uid);
        Assert.Empty(PoolDesiredState.SpecProblems(pool.Spec));

        // An existing claim: mounted, nothing created.
        var existing = PoolDesiredState.Build(Pool(new PoolStore { Sqlite = new PoolSqliteStore { ExistingClaim = "alerts" } }, s => s.Replicas = new PoolReplicas { Min = 1, Max = 1 }));
        Assert.Null(existing.Claim);
        Assert.Equal("alerts", Assert.Single(existing.Deployment.Spec.Template.Spec.Volumes, v => v.Name == "store").PersistentVolumeClaim.ClaimName);

        // More than one replica on SQLite: refused by the operator and by the CRD's rule.
        var many = Pool(new PoolStore { Sqlite = new PoolSqliteStore() }, s => s.Replicas = new PoolReplicas { Min = 1, Max = 3 });
        Assert.Contains(PoolDesiredState.SpecProblems(many.Spec), p => p.StartsWith("store.sqlite needs exactly one replica", StringComparison.Ordinal) && p.Contains("1..3", StringComparison.Ordinal));
        var specSchema = CrdGenerator.Pool().Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"];
        Assert.Contains(specSchema.XKubernetesValidations, r => r.Rule.Contains("has(self.store.postgres)", StringComparison.Ordinal) && r.Message.StartsWith("store.sqlite (also the default when store is absent) needs exactly one replica", StringComparison.Ordinal));

        // Autoscaling on SQLite would scale nothing: refused by the operator and by the CRD's rule, naming the way out.
        var scaled = Pool(new PoolStore { Sqlite = new PoolSqliteStore() }, s => s.Autoscaling = new PoolAutoscaling { Provider = PoolAutoscaling.KedaProvider, Keda = new PoolKeda { NatsMonitoringEndpoint = "nats:8222" } });
        Assert.Contains(PoolDesiredState.SpecProblems(scaled.Spec), p => p == "store.sqlite runs one manager, so autoscaling (provider keda) would scale nothing: remove autoscaling (or set its provider to none), or use store.postgres to autoscale");
        Assert.Empty(PoolDesiredState.SpecProblems(Pool(new PoolStore { Sqlite = new PoolSqliteStore() }, s => (s.Replicas, s.Autoscaling) = (null, new PoolAutoscaling { Provider = PoolAutoscaling.NoProvider })).Spec));
        var autoscalingRule = Assert.Single(specSchema.XKubernetesValidations, r => r.Message.StartsWith("store.sqlite runs one manager, so autoscaling", StringComparison.Ordinal));
        Assert.Equal("!has(self.store) || has(self.store.postgres) || !has(self.autoscaling) || self.autoscaling.provider == 'none'", autoscalingRule.Rule);
        var storeSchema = specSchema.Properties["store"];
        Assert.Contains(storeSchema.XKubernetesValidations, r => r.Rule == "has(self.postgres) != has(self.sqlite)");
    }

    [Fact]
    public void A_pool_without_a_store_is_exactly_sqlite_on_a_claim_with_one_manager_and_says_so()
    {
        var none = Pool(null, s => (s.Replicas, s.Autoscaling) = (null, new PoolAutoscaling { Provider = PoolAutoscaling.KedaProvider, Keda = new PoolKeda { NatsMonitoringEndpoint = "nats:8222" } }));
        var sqlite = Pool(new PoolStore { Sqlite = new PoolSqliteStore() }, s => (s.Replicas, s.Autoscaling) = (null, none.Spec.Autoscaling));
        var (a, b) = (PoolDesiredState.Build(none), PoolDesiredState.Build(sqlite));
        Assert.Equal(KubernetesJson.Serialize(b.Deployment), KubernetesJson.Serialize(a.Deployment));
        Assert.Equal(KubernetesJson.Serialize(b.Claim), KubernetesJson.Serialize(a.Claim));
        Assert.Equal("sqlite", Env(Manager(a), "Fim__Store__Backend").Value);
        Assert.Equal(("managers", "10Gi"), (a.Claim!.Metadata.Name, a.Claim.Spec.Resources.Requests["storage"].ToString()));
        Assert.Equal(1, a.Deployment.Spec.Replicas);
        Assert.Equal("Recreate", a.Deployment.Spec.Strategy.Type);
        Assert.Null(a.Autoscaler);
        Assert.Null(a.ScaledObject);
        Assert.Empty(PoolDesiredState.SpecProblems(none.Spec));

        var status = PoolStatusCalculator.Compute(none, null, null, [], DateTime.UtcNow);
        var defaulted = Assert.Single(status.Conditions!, c => c.Type == "StoreDefaulted");
        // A pool from before stores existed keeps its autoscaling block: not refused (it would block every update), and
        // the condition says it is not applied.
        Assert.Equal(("True", "NoStoreGiven", "no store given: SQLite on claim managers, one manager; spec.autoscaling (keda) is not applied; set spec.store.postgres to autoscale"),
            (defaulted.Status, defaulted.Reason, defaulted.Message));
        Assert.Equal("False", Assert.Single(PoolStatusCalculator.Compute(sqlite, null, null, [], DateTime.UtcNow).Conditions!, c => c.Type == "StoreDefaulted").Status);

        // Several replicas without a store: refused like store.sqlite, naming the default and the way out.
        var many = Pool(null, s => s.Replicas = new PoolReplicas { Min = 2, Max = 6 });
        Assert.Contains(PoolDesiredState.SpecProblems(many.Spec), p => p.StartsWith("no store given, so SQLite on a claim, which needs exactly one replica", StringComparison.Ordinal)
            && p.Contains("2..6", StringComparison.Ordinal) && p.Contains("store.postgres", StringComparison.Ordinal));
        var rule = CrdGenerator.Pool().Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].XKubernetesValidations
            .Single(r => r.Message.Contains("needs exactly one replica", StringComparison.Ordinal));
        Assert.StartsWith("(has(self.store) && has(self.store.postgres)) ||", rule.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Contradictory_store_settings_are_problems_naming_the_field()
    {
        Assert.Contains("store: set exactly one of store.postgres or store.sqlite",
            PoolDesiredState.SpecProblems(Pool(new PoolStore { Postgres = new PoolPostgresStore { CnpgCluster = "db" }, Sqlite = new PoolSqliteStore() }).Spec));
        Assert.Contains("store.postgres: set exactly one of connectionSecretRef or cnpgCluster",
            PoolDesiredState.SpecProblems(Pool(new PoolStore { Postgres = new PoolPostgresStore() }).Spec));
        Assert.Contains("store.postgres.tls: sslMode verify-ca and verify-full need caSecretRef or caConfigMapRef",
            PoolDesiredState.SpecProblems(Pool(new PoolStore { Postgres = new PoolPostgresStore { CnpgCluster = "db", Tls = new PoolPostgresTls { SslMode = "verify-full" } } }).Spec));
        Assert.Contains(PoolDesiredState.SpecProblems(Pool(new PoolStore { Sqlite = new PoolSqliteStore { ExistingClaim = "c", Size = new ResourceQuantity("1Gi") } }, s => s.Replicas = null).Spec),
            p => p.StartsWith("store.sqlite: size and storageClassName", StringComparison.Ordinal));
    }

    [Fact]
    public void Fleet_durations_reach_the_manager_as_timespans_and_contradictions_are_problems()
    {
        var pool = Samples.Stored(Samples.Pool());
        pool.Spec.Fleet = new PoolFleet { DisconnectedAfter = "10m", PruneAfter = "7d" };
        var m = Manager(PoolDesiredState.Build(pool));
        Assert.Equal("00:10:00", Env(m, "Fim__Fleet__DisconnectedAfter").Value);
        Assert.Equal("7.00:00:00", Env(m, "Fim__Fleet__PruneAfter").Value);
        Assert.Empty(PoolDesiredState.SpecProblems(pool.Spec));

        pool.Spec.Fleet = new PoolFleet { DisconnectedAfter = "1h", PruneAfter = "30m" };
        Assert.Contains("fleet.pruneAfter (30m) must be at least fleet.disconnectedAfter (1h) or 0s (off)", PoolDesiredState.SpecProblems(pool.Spec));
        pool.Spec.Fleet = new PoolFleet { DisconnectedAfter = "31d", PruneAfter = "0s" };
        Assert.Equal(["fleet.disconnectedAfter: must be 1s to 30d, got 31d"], PoolDesiredState.SpecProblems(pool.Spec));
        Assert.Equal("00:00:00", Env(Manager(PoolDesiredState.Build(pool)), "Fim__Fleet__PruneAfter").Value);
    }

    [Fact]
    public void Missing_store_secrets_and_keys_are_named_one_by_one()
    {
        var pool = Pool(new PoolStore { Postgres = new PoolPostgresStore { CnpgCluster = "db" } });
        var keys = new Dictionary<string, IReadOnlyCollection<string>> { ["db-app"] = ["host", "port", "username"] };
        var missing = PoolStoreSettings.Missing(pool, s => keys.GetValueOrDefault(s));
        Assert.Equal(
            ["Secret default/db-app (store.postgres.cnpgCluster) has no key 'dbname', 'password'", "Secret default/db-ca (store.postgres.cnpgCluster) not found"],
            missing);
    }

    [Fact]
    public void The_operator_caches_a_Secrets_key_names_never_its_values()
    {
        var cached = ReferenceCache.WithoutData(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "fim-db" },
            Data = new Dictionary<string, byte[]> { ["connection"] = System.Text.Encoding.UTF8.GetBytes("Password=hunter2") },
        });
        Assert.Equal(["connection"], cached.Data.Keys);
        Assert.All(cached.Data.Values, v => Assert.Empty(v));
        Assert.DoesNotContain("hunter2", KubernetesJson.Serialize(cached));
    }

    [Fact]
    public async Task Operator_refuses_sqlite_with_more_replicas_and_says_which_store_secret_or_key_is_missing()
    {
        await using var h = await OperatorHarness.StartAsync();
        h.StartOperator(new MemoryPolicyStore(), new MemoryAgentDirectory(), loggers: new TestLoggers(output));
        await h.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "nats-auth" }, StringData = new Dictionary<string, string> { ["user"] = "u", ["password"] = "p" } }, Ns);

        // SQLite with up to three replicas (the API double does not run CEL, so this is the operator's own check).
        var sqlite = Samples.Pool("lite");
        sqlite.Spec.Store = new PoolStore { Sqlite = new PoolSqliteStore() };
        sqlite.Spec.Replicas = new PoolReplicas { Min = 1, Max = 3 };
        await h.Pools.CreateAsync(sqlite);
        await Eventually.TrueAsync(async () => Degraded(await h.Pools.GetAsync<FimManagerPool>("lite")) is { Reason: "InvalidSpec" } c
            && c.Message!.Contains("store.sqlite needs exactly one replica", StringComparison.Ordinal), "lite: Degraded InvalidSpec naming the one-replica rule");
        Assert.Null(await Quietly(() => h.Client.AppsV1.ReadNamespacedDeploymentAsync("lite", Ns)));

        // PostgreSQL from a Secret that does not exist yet, then exists without the key, then with it.
        var pg = Samples.Pool("pg");
        pg.Spec.Store = new PoolStore { Postgres = new PoolPostgresStore { ConnectionSecretRef = new SecretKeyReference { Name = "fim-db", Key = "connection" } } };
        await h.Pools.CreateAsync(pg);
        await Eventually.TrueAsync(async () => Degraded(await h.Pools.GetAsync<FimManagerPool>("pg")) is { Reason: "StoreSecretMissing" } c
            && c.Message == "Secret default/fim-db (store.postgres.connectionSecretRef) not found", "pg: Degraded StoreSecretMissing, not found");
        const string connection = "Host=db;Username=fim;Password=never-in-the-spec";
        await h.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "fim-db" }, StringData = new Dictionary<string, string> { ["other"] = connection } }, Ns);
        await Eventually.TrueAsync(async () => Degraded(await h.Pools.GetAsync<FimManagerPool>("pg"))?.Message == "Secret default/fim-db (store.postgres.connectionSecretRef) has no key 'connection'",
            "pg: the missing key named once the Secret arrives");
        var secret = await h.Client.CoreV1.ReadNamespacedSecretAsync("fim-db", Ns);
        secret.Data["connection"] = System.Text.Encoding.UTF8.GetBytes(connection);
        await h.Client.CoreV1.ReplaceNamespacedSecretAsync(secret, "fim-db", Ns);
        await Eventually.TrueAsync(async () => Degraded(await h.Pools.GetAsync<FimManagerPool>("pg")) is { Status: "False" }, "pg: no longer degraded once the key is there");

        var d = await h.Client.AppsV1.ReadNamespacedDeploymentAsync("pg", Ns);
        var env = d.Spec.Template.Spec.Containers[0].Env.Single(e => e.Name == "Fim__Store__ConnectionString");
        Assert.Equal(("fim-db", "connection"), (env.ValueFrom.SecretKeyRef.Name, env.ValueFrom.SecretKeyRef.Key));
        Assert.DoesNotContain("never-in-the-spec", KubernetesJson.Serialize(d));
        Assert.DoesNotContain("never-in-the-spec", KubernetesJson.Serialize(await h.Pools.GetAsync<FimManagerPool>("pg")));

        // A new password reaches running managers only through a restart: the changed Secret changes the pod template.
        static async Task<string?> VersionsAsync(OperatorHarness h) =>
            (await h.Client.AppsV1.ReadNamespacedDeploymentAsync("pg", Ns)).Spec.Template.Metadata.Annotations is { } a && a.TryGetValue(PoolDesiredState.ConfigVersionsAnnotation, out var v) ? v : null;
        var before = await VersionsAsync(h);
        secret = await h.Client.CoreV1.ReadNamespacedSecretAsync("fim-db", Ns);
        Assert.Equal($"secret/fim-db={secret.Metadata.ResourceVersion},secret/nats-auth={(await h.Client.CoreV1.ReadNamespacedSecretAsync("nats-auth", Ns)).Metadata.ResourceVersion}", before);
        secret.Data["connection"] = System.Text.Encoding.UTF8.GetBytes(connection + "-rotated");
        var rotated = await h.Client.CoreV1.ReplaceNamespacedSecretAsync(secret, "fim-db", Ns);
        await Eventually.TrueAsync(async () => (await VersionsAsync(h))?.StartsWith($"secret/fim-db={rotated.Metadata.ResourceVersion},", StringComparison.Ordinal) == true,
            $"the template to name fim-db's version {rotated.Metadata.ResourceVersion} after the rotation (it said {before})");

        // A settings ConfigMap: missing is Degraded ConfigMapMissing; once there, its version is on the template too.
        var withSinks = await h.Pools.GetAsync<FimManagerPool>("pg");
        withSinks!.Spec.Sinks = new PoolSinks { SettingsConfigMapRef = new SecretReference { Name = "pg-sinks" } };
        await h.Pools.ReplaceAsync(withSinks);
        await Eventually.TrueAsync(async () => Degraded(await h.Pools.GetAsync<FimManagerPool>("pg")) is { Reason: "ConfigMapMissing" } c
            && c.Message == "ConfigMap default/pg-sinks (sinks.settingsConfigMapRef) not found", "pg: Degraded ConfigMapMissing naming the field");
        var sinks = await h.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "pg-sinks" },
            Data = new Dictionary<string, string> { ["Fim__Sinks__Syslog__Host"] = "siem.example" },
        }, Ns);
        await Eventually.TrueAsync(async () => Degraded(await h.Pools.GetAsync<FimManagerPool>("pg")) is { Status: "False" }
            && (await VersionsAsync(h))?.EndsWith($",configmap/pg-sinks={sinks.Metadata.ResourceVersion}", StringComparison.Ordinal) == true,
            "pg: not degraded, and the ConfigMap's version on the template");
    }

    [Fact]
    public async Task A_sqlite_pool_gets_a_claim_applied_by_the_operator_and_one_replica_it_owns()
    {
        await using var h = await OperatorHarness.StartAsync();
        h.StartOperator(new MemoryPolicyStore(), new MemoryAgentDirectory(), loggers: new TestLoggers(output));
        var pool = Samples.Pool();
        pool.Spec.Nats.SecretRef = null;
        pool.Spec.Replicas = null;
        pool.Spec.Autoscaling = null;
        pool.Spec.Store = new PoolStore { Sqlite = new PoolSqliteStore { Size = new ResourceQuantity("5Gi") } };
        await h.Pools.CreateAsync(pool);

        await Eventually.TrueAsync(async () => await Quietly(() => h.Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("managers", Ns)) is not null
            && await Quietly(() => h.Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("managers", Ns)) is not null, "the claim and the other children");
        var claim = await h.Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("managers", Ns);
        Assert.Equal("5Gi", claim.Spec.Resources.Requests["storage"].ToString());
        Assert.Equal("managers", claim.Metadata.OwnerReferences.Single().Name);
        Assert.Equal(1, (await h.Client.AppsV1.ReadNamespacedDeploymentAsync("managers", Ns)).Spec.Replicas);

        // Field ownership: with no autoscaler the operator owns replicas, so a scale to 3 (a second indexer) is put back;
        // a label it applies on the claim, edited by hand, comes back too.
        await h.Client.AppsV1.PatchNamespacedDeploymentScaleAsync(
            new V1Patch("""{"spec":{"replicas":3}}""", V1Patch.PatchType.MergePatch), "managers", Ns, fieldManager: "kubectl-scale");
        await h.Client.CoreV1.PatchNamespacedPersistentVolumeClaimAsync(
            new V1Patch("""{"metadata":{"labels":{"app.kubernetes.io/component":"edited","mine":"yes"}}}""", V1Patch.PatchType.MergePatch), "managers", Ns, fieldManager: "kubectl-edit");
        await Eventually.TrueAsync(async () => (await h.Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("managers", Ns)).Metadata.Labels["app.kubernetes.io/component"] == "manager",
            "the claim's label put back");
        await Eventually.TrueAsync(async () => (await h.Client.AppsV1.ReadNamespacedDeploymentAsync("managers", Ns)).Spec.Replicas == 1, "one replica put back");
        Assert.Equal("yes", (await h.Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("managers", Ns)).Metadata.Labels["mine"]);
        Assert.Null(await Quietly(() => h.Client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync("managers", Ns)));

        Assert.DoesNotContain(h.OperatorRequests.Seen.Keys, k => !OperatorPermissions.Allows(k.Verb, k.Group, k.Resource));
    }

    [Fact]
    public async Task A_pool_without_a_store_gets_a_claim_one_replica_no_autoscaler_and_a_condition_saying_so()
    {
        await using var h = await OperatorHarness.StartAsync();
        h.StartOperator(new MemoryPolicyStore(), new MemoryAgentDirectory(), loggers: new TestLoggers(output));
        var pool = Samples.Pool();
        pool.Spec.Nats.SecretRef = null;
        pool.Spec.Replicas = null;
        pool.Spec.Store = null;
        await h.Pools.CreateAsync(pool);

        await Eventually.TrueAsync(async () => await Quietly(() => h.Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("managers", Ns)) is not null
            && Conditions.Find((await h.Pools.GetAsync<FimManagerPool>("managers"))?.Status?.Conditions, "StoreDefaulted") is { Status: "True" },
            "the claim and the StoreDefaulted condition");
        var status = (await h.Pools.GetAsync<FimManagerPool>("managers"))!.Status!;
        // The sample's autoscaling block, as a pool from before stores existed has it: kept, not applied, and said so.
        Assert.Equal("no store given: SQLite on claim managers, one manager; spec.autoscaling (prometheus-adapter) is not applied; set spec.store.postgres to autoscale",
            Conditions.Find(status.Conditions, "StoreDefaulted")!.Message);
        Assert.Equal("False", Degraded(await h.Pools.GetAsync<FimManagerPool>("managers"))?.Status);
        var d = await h.Client.AppsV1.ReadNamespacedDeploymentAsync("managers", Ns);
        Assert.Equal(1, d.Spec.Replicas);
        Assert.Equal("Recreate", d.Spec.Strategy.Type);
        Assert.Equal("managers", d.Spec.Template.Spec.Volumes.Single(v => v.Name == "store").PersistentVolumeClaim.ClaimName);
        Assert.Equal("sqlite", d.Spec.Template.Spec.Containers[0].Env.Single(e => e.Name == "Fim__Store__Backend").Value);
        Assert.Null(await Quietly(() => h.Client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync("managers", Ns)));
    }

    private static Condition? Degraded(FimManagerPool? pool) => Conditions.Find(pool?.Status?.Conditions, "Degraded");

    private static async Task<T?> Quietly<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
