//! Schema and migrations (`PRAGMA user_version`).

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE workspaces (
    name TEXT PRIMARY KEY,
    lineage TEXT NOT NULL,
    serial INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE resources (
    workspace TEXT NOT NULL,
    address TEXT NOT NULL,
    provider TEXT NOT NULL,
    attrs TEXT NOT NULL,
    sensitive TEXT NOT NULL,
    deps TEXT NOT NULL,
    tainted INTEGER NOT NULL DEFAULT 0,
    schema_version INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace, address)
) WITHOUT ROWID;
CREATE TABLE outputs (
    workspace TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    sensitive INTEGER NOT NULL,
    PRIMARY KEY (workspace, name)
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace TEXT NOT NULL,
    command TEXT NOT NULL,
    user TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    result TEXT,
    added INTEGER NOT NULL DEFAULT 0,
    changed INTEGER NOT NULL DEFAULT 0,
    destroyed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE locks (
    workspace TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    user TEXT NOT NULL,
    command TEXT NOT NULL,
    since TEXT NOT NULL
);
CREATE TABLE intents (
    workspace TEXT NOT NULL,
    address TEXT NOT NULL,
    op TEXT NOT NULL,
    token TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    planned TEXT NOT NULL,
    PRIMARY KEY (workspace, address)
);
"#,
    r#"
CREATE TABLE workspace_metadata (
    workspace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (workspace, key)
);
"#,
];

/// Applies pending migrations. Returns `Some(version)` if the file is newer than this build.
pub(crate) fn migrate(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let latest = MIGRATIONS.len() as i64;
    if current > latest {
        return Ok(Some(current));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let r = conn
            .execute_batch(sql)
            .and_then(|_| conn.pragma_update(None, "user_version", (i + 1) as i64));
        match r {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                // Another process may have migrated concurrently.
                let now: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                if now > i as i64 {
                    continue;
                }
                return Err(e);
            }
        }
    }
    Ok(None)
}
