//! The tables of the PostgreSQL store, as numbered migrations (the SQLite store's, in one
//! schema).

/// Schema versions, applied in order; `{s}` is the quoted schema name.
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE {s}.workspaces (
    name TEXT PRIMARY KEY,
    lineage TEXT NOT NULL,
    serial BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE {s}.resources (
    workspace TEXT NOT NULL,
    address TEXT NOT NULL,
    provider TEXT NOT NULL,
    attrs TEXT NOT NULL,
    sensitive TEXT NOT NULL,
    deps TEXT NOT NULL,
    tainted BOOLEAN NOT NULL DEFAULT FALSE,
    schema_version BIGINT NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace, address)
);
CREATE TABLE {s}.outputs (
    workspace TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    sensitive BOOLEAN NOT NULL,
    PRIMARY KEY (workspace, name)
);
CREATE TABLE {s}.runs (
    id BIGSERIAL PRIMARY KEY,
    workspace TEXT NOT NULL,
    command TEXT NOT NULL,
    run_user TEXT NOT NULL,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    result TEXT,
    added BIGINT NOT NULL DEFAULT 0,
    changed BIGINT NOT NULL DEFAULT 0,
    destroyed BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE {s}.locks (
    workspace TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    pid BIGINT NOT NULL,
    host TEXT NOT NULL,
    lock_user TEXT NOT NULL,
    command TEXT NOT NULL,
    since TEXT NOT NULL
);
CREATE TABLE {s}.intents (
    workspace TEXT NOT NULL,
    address TEXT NOT NULL,
    op TEXT NOT NULL,
    token TEXT NOT NULL,
    run_id BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    planned TEXT NOT NULL,
    PRIMARY KEY (workspace, address)
);
"#,
    r#"
CREATE TABLE {s}.workspace_metadata (
    workspace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (workspace, key)
);
"#,
];
