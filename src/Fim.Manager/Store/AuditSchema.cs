namespace Fim.Manager.Store;

/// <summary>
/// Migration 3, the audit log: one row per mutating API call, hash-chained (<see cref="AuditChain"/>). Triggers refuse
/// UPDATE, DELETE (and on PostgreSQL TRUNCATE) as defence in depth: whoever can drop a trigger can still edit, which the
/// chain and the checkpoint then reveal.
/// </summary>
internal static class AuditSchema
{
    public const int Version = 3;
    public const string Description = "audit log, hash-chained";

    public static readonly IReadOnlyList<string> Sqlite =
    [
        """
        CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            auth_method TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL,
            outcome TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL)
        """,
        "CREATE INDEX audit_log_at ON audit_log (at)",
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ];

    public static readonly IReadOnlyList<string> Postgres =
    [
        """
        CREATE TABLE audit_log (
            seq bigint PRIMARY KEY,
            at timestamptz NOT NULL,
            actor text NOT NULL,
            auth_method text NOT NULL,
            action text NOT NULL,
            target text NOT NULL,
            detail text NOT NULL,
            outcome text NOT NULL,
            prev_hash text NOT NULL,
            hash text NOT NULL)
        """,
        "CREATE INDEX audit_log_at ON audit_log (at)",
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RAISE EXCEPTION ''audit_log is append-only: % refused'', TG_OP; END'",
        "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ];
}
