namespace Fim.Manager.Store;

/// <summary>
/// Migration 4: the scans table (one row per scan record an agent published). Keyed by the agent's scan id, so a
/// redelivered record is skipped; indexed by agent and policy over time (the report, per-node status) and by time.
/// </summary>
public static class ScanSchema
{
    public const int Version = 4;
    public const string Description = "scans";

    public static IReadOnlyList<string> Sqlite { get; } =
    [
        """
        CREATE TABLE scans (
            scan_id TEXT PRIMARY KEY,
            agent_id TEXT NOT NULL,
            host TEXT NOT NULL,
            policy TEXT NOT NULL,
            policy_revision INTEGER NOT NULL,
            trigger TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            finished_at INTEGER NOT NULL,
            duration_ms REAL NOT NULL,
            files INTEGER NOT NULL,
            directories INTEGER NOT NULL,
            bytes_hashed INTEGER NOT NULL,
            added INTEGER NOT NULL,
            changed INTEGER NOT NULL,
            removed INTEGER NOT NULL,
            errors INTEGER NOT NULL,
            result TEXT NOT NULL,
            baseline_digest TEXT NOT NULL,
            schedule_seconds INTEGER NOT NULL,
            stream_seq INTEGER NOT NULL,
            stored_at INTEGER NOT NULL,
            body BLOB NOT NULL)
        """,
        "CREATE INDEX scans_agent_policy_time ON scans (agent_id, policy, finished_at)",
        "CREATE INDEX scans_time ON scans (finished_at, scan_id)",
    ];

    public static IReadOnlyList<string> Postgres { get; } =
    [
        """
        CREATE TABLE scans (
            scan_id text PRIMARY KEY,
            agent_id text NOT NULL,
            host text NOT NULL,
            policy text NOT NULL,
            policy_revision bigint NOT NULL,
            trigger text NOT NULL,
            started_at timestamptz NOT NULL,
            finished_at timestamptz NOT NULL,
            duration_ms double precision NOT NULL,
            files bigint NOT NULL,
            directories bigint NOT NULL,
            bytes_hashed bigint NOT NULL,
            added integer NOT NULL,
            changed integer NOT NULL,
            removed integer NOT NULL,
            errors integer NOT NULL,
            result text NOT NULL,
            baseline_digest text NOT NULL,
            schedule_seconds bigint NOT NULL,
            stream_seq bigint NOT NULL,
            stored_at timestamptz NOT NULL,
            body bytea NOT NULL)
        """,
        "CREATE INDEX scans_agent_policy_time ON scans (agent_id, policy, finished_at)",
        "CREATE INDEX scans_time ON scans (finished_at, scan_id)",
    ];
}
