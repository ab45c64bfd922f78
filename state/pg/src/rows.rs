//! Rows of the PostgreSQL store: reading them into the state's records, and the statements that
//! write resources.

use postgres::Row;
use terrane_state::{now, LockInfo, ResourceRecord, Result, StateError};

pub(crate) fn lock_info(r: &Row) -> LockInfo {
    LockInfo {
        id: r.get(0),
        pid: r.get(1),
        host: r.get(2),
        user: r.get(3),
        command: r.get(4),
        since: r.get(5),
    }
}

/// The columns of a resource row, in [`resource_row`]'s order.
pub(crate) const RESOURCE_COLUMNS: &str =
    "address, provider, attrs, sensitive, deps, tainted, schema_version";

/// A resource row as read (its JSON columns still text: the connection's thread only copies).
pub(crate) struct ResourceRow {
    address: String,
    provider: String,
    attrs: String,
    sensitive: String,
    deps: String,
    tainted: bool,
    schema_version: i64,
}

pub(crate) fn resource_row(r: &Row) -> ResourceRow {
    ResourceRow {
        address: r.get(0),
        provider: r.get(1),
        attrs: r.get(2),
        sensitive: r.get(3),
        deps: r.get(4),
        tainted: r.get(5),
        schema_version: r.get(6),
    }
}

impl ResourceRow {
    pub(crate) fn record(self) -> Result<ResourceRecord> {
        let corrupt = |m: serde_json::Error| StateError::Corrupt {
            address: self.address.clone(),
            message: m.to_string(),
        };
        Ok(ResourceRecord {
            attrs: serde_json::from_str(&self.attrs).map_err(corrupt)?,
            sensitive: serde_json::from_str(&self.sensitive).map_err(corrupt)?,
            deps: serde_json::from_str(&self.deps).map_err(corrupt)?,
            address: self.address.clone(),
            provider: self.provider,
            tainted: self.tainted,
            schema_version: self.schema_version,
        })
    }
}

pub(crate) fn json_or_null(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or(serde_json::Value::Null)
}

/// The upsert of one resource row, prepared once per transaction (a statement sent as text
/// would be parsed and planned again for each row: two round trips instead of one).
pub(crate) fn prepare_upsert(
    tx: &mut postgres::Transaction<'_>,
    s: &str,
) -> std::result::Result<postgres::Statement, postgres::Error> {
    tx.prepare(&format!(
        "INSERT INTO {s}.resources (workspace, address, provider, attrs, sensitive, deps, tainted, schema_version, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (workspace, address) DO UPDATE SET provider = excluded.provider,
           attrs = excluded.attrs, sensitive = excluded.sensitive, deps = excluded.deps,
           tainted = excluded.tainted, schema_version = excluded.schema_version,
           updated_at = excluded.updated_at"
    ))
}

pub(crate) fn upsert(
    tx: &mut postgres::Transaction<'_>,
    stmt: &postgres::Statement,
    ws: &str,
    r: &ResourceRecord,
) -> std::result::Result<(), postgres::Error> {
    let sensitive = serde_json::to_string(&r.sensitive).unwrap_or_else(|_| "[]".into());
    let deps = serde_json::to_string(&r.deps).unwrap_or_else(|_| "[]".into());
    tx.execute(
        stmt,
        &[
            &ws,
            &r.address,
            &r.provider,
            &r.attrs.to_string(),
            &sensitive,
            &deps,
            &r.tainted,
            &r.schema_version,
            &now(),
        ],
    )?;
    Ok(())
}

pub(crate) fn bump_serial(
    tx: &mut postgres::Transaction<'_>,
    s: &str,
    ws: &str,
) -> std::result::Result<(), postgres::Error> {
    tx.execute(
        &format!("UPDATE {s}.workspaces SET serial = serial + 1 WHERE name = $1"),
        &[&ws],
    )?;
    Ok(())
}
