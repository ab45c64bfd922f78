//! Terrane's state store: one SQLite file per project directory, holding named workspaces.
//!
//! This crate knows nothing of providers, HCL or the engine's value types: resources are stored
//! as rows with JSON attributes. Every change is written incrementally, one small transaction per
//! finished step, so a crash loses nothing that finished and bytes written per step do not grow
//! with the size of the state.

mod lock;
mod schema;
mod store;
#[doc(hidden)]
pub mod suite;

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

pub use lock::{current_user, hostname, LockInfo, LockOutcome};
pub use store::StateStore;

/// Default file name of the state database in a project directory.
pub const DEFAULT_FILE: &str = "terrane.state.db";

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("state database {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// A database backend's failure (connection, query), with where the state lives.
    #[error("state database {location}: {message}")]
    Backend { location: String, message: String },
    #[error("state is locked by {0}")]
    Locked(Box<LockInfo>),
    #[error("no lock with id {0} is held on workspace {1}")]
    NoSuchLock(String, String),
    #[error("state database {0} was written by a newer Terrane (schema version {1})")]
    TooNew(String, i64),
    #[error("corrupt state row for {address}: {message}")]
    Corrupt { address: String, message: String },
}

pub type Result<T> = std::result::Result<T, StateError>;

/// One resource instance as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRecord {
    /// Full instance address, e.g. `module.net.aws_subnet.a[0]`.
    pub address: String,
    /// Provider configuration address, e.g. `provider.aws` or `provider.aws.west`.
    pub provider: String,
    pub attrs: serde_json::Value,
    /// Top-level attribute names that hold secrets.
    pub sensitive: Vec<String>,
    /// Addresses of the resources (not instances) this one depended on when last applied.
    pub deps: Vec<String>,
    /// The object exists but its creation did not finish cleanly; the next plan replaces it.
    pub tainted: bool,
    /// Schema version of `attrs`.
    pub schema_version: i64,
}

/// One finished step to record (see [`StateStore::apply_steps`]).
#[derive(Debug, Clone, PartialEq)]
pub enum StepWrite {
    /// The instance now has this state; its intent is cleared.
    Put(ResourceRecord),
    /// The instance is gone; its intent is cleared.
    Delete(String),
    /// Only clear the intent (the call failed before changing anything).
    ClearIntent(String),
}

/// A mutating provider call that was started but whose result was not yet recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    pub address: String,
    pub op: String,
    pub token: String,
    pub run_id: i64,
    pub started_at: String,
    /// JSON of what the call was going to produce (the planned state), for recovery.
    pub planned: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputRecord {
    pub name: String,
    pub value: serde_json::Value,
    pub sensitive: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: i64,
    pub workspace: String,
    pub command: String,
    pub user: String,
    pub host: String,
    pub pid: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub result: Option<String>,
    pub added: i64,
    pub changed: i64,
    pub destroyed: i64,
    pub failed: i64,
}

/// Counts stored with a finished run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub added: i64,
    pub changed: i64,
    pub destroyed: i64,
    pub failed: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceMeta {
    pub name: String,
    pub lineage: String,
    pub serial: i64,
}

/// An open state database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// Now, as `YYYY-MM-DDTHH:MM:SSZ` (UTC): how every backend stores times.
pub fn now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format_rfc3339(d.as_secs() as i64)
}

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn format_rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Store {
    /// Opens (creating with mode 0600 if needed) the state database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let p = path.display().to_string();
        if !path.exists() {
            create_private(path).map_err(|source| StateError::Io {
                path: p.clone(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(|source| StateError::Sqlite {
            path: p.clone(),
            source,
        })?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.init().map_err(|e| store.err(e))?;
        if let Some(v) = schema::migrate(&store.conn).map_err(|e| store.err(e))? {
            return Err(StateError::TooNew(p, v));
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> StateError {
        StateError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn init(&self) -> rusqlite::Result<()> {
        self.conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL + NORMAL: a committed step survives a process crash (kill -9); each step is one
        // small transaction appended to the log instead of a rewrite of the file.
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(())
    }

    fn bump_serial(&self, ws: &str) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached("UPDATE workspaces SET serial = serial + 1 WHERE name = ?1")?
            .execute(params![ws])?;
        Ok(())
    }

    fn upsert(&self, ws: &str, rec: &ResourceRecord) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO resources(workspace, address, provider, attrs, sensitive, deps, tainted, schema_version, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(workspace, address) DO UPDATE SET provider = excluded.provider,
                   attrs = excluded.attrs, sensitive = excluded.sensitive, deps = excluded.deps,
                   tainted = excluded.tainted, schema_version = excluded.schema_version,
                   updated_at = excluded.updated_at",
            )?
            .execute(params![
                ws,
                rec.address,
                rec.provider,
                rec.attrs.to_string(),
                serde_json::to_string(&rec.sensitive).unwrap_or_else(|_| "[]".into()),
                serde_json::to_string(&rec.deps).unwrap_or_else(|_| "[]".into()),
                rec.tainted,
                rec.schema_version,
                now(),
            ])?;
        Ok(())
    }

    fn in_tx<T>(&self, f: impl FnOnce() -> rusqlite::Result<T>) -> Result<T> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        match f() {
            Ok(v) => {
                self.conn.execute_batch("COMMIT").map_err(|e| self.err(e))?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(self.err(e))
            }
        }
    }
}

impl StateStore for Store {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    /// Returns the workspace, creating it (with a new lineage) if needed.
    fn workspace(&self, name: &str) -> Result<WorkspaceMeta> {
        let existing = self.workspace_meta(name)?;
        if let Some(m) = existing {
            return Ok(m);
        }
        let lineage = random_hex(16);
        self.conn
            .execute(
                "INSERT OR IGNORE INTO workspaces(name, lineage, serial, created_at) VALUES (?1, ?2, 0, ?3)",
                params![name, lineage, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.workspace_meta(name)?.expect("workspace just inserted"))
    }

    /// The workspace if it exists.
    fn workspace_meta(&self, name: &str) -> Result<Option<WorkspaceMeta>> {
        self.conn
            .query_row(
                "SELECT name, lineage, serial FROM workspaces WHERE name = ?1",
                params![name],
                |r| {
                    Ok(WorkspaceMeta {
                        name: r.get(0)?,
                        lineage: r.get(1)?,
                        serial: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    fn list_workspaces(&self) -> Result<Vec<WorkspaceMeta>> {
        let mut st = self
            .conn
            .prepare("SELECT name, lineage, serial FROM workspaces ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(WorkspaceMeta {
                    name: r.get(0)?,
                    lineage: r.get(1)?,
                    serial: r.get(2)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Calls `f` with every resource instance of a workspace, in address order, without holding
    /// them all in memory at once.
    fn for_each_resource(&self, ws: &str, f: &mut dyn FnMut(ResourceRecord)) -> Result<()> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT address, provider, attrs, sensitive, deps, tainted, schema_version
                 FROM resources WHERE workspace = ?1 ORDER BY address",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query(params![ws]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let get = |i: usize| r.get::<_, String>(i);
            let (address, provider, attrs, sensitive, deps) =
                (get(0), get(1), get(2), get(3), get(4));
            let (address, provider, attrs, sensitive, deps) =
                match (address, provider, attrs, sensitive, deps) {
                    (Ok(a), Ok(p), Ok(at), Ok(s), Ok(d)) => (a, p, at, s, d),
                    (Err(e), ..)
                    | (_, Err(e), ..)
                    | (_, _, Err(e), ..)
                    | (_, _, _, Err(e), _)
                    | (.., Err(e)) => return Err(self.err(e)),
                };
            let tainted: bool = r.get(5).map_err(|e| self.err(e))?;
            let schema_version: i64 = r.get(6).map_err(|e| self.err(e))?;
            let corrupt = |m: serde_json::Error| StateError::Corrupt {
                address: address.clone(),
                message: m.to_string(),
            };
            f(ResourceRecord {
                attrs: serde_json::from_str(&attrs).map_err(corrupt)?,
                sensitive: serde_json::from_str(&sensitive).map_err(corrupt)?,
                deps: serde_json::from_str(&deps).map_err(corrupt)?,
                address,
                provider,
                tainted,
                schema_version,
            });
        }
        Ok(())
    }

    /// Writes one resource instance (insert or replace) in its own transaction.
    fn put_resource(&self, ws: &str, rec: &ResourceRecord) -> Result<()> {
        self.in_tx(|| {
            self.upsert(ws, rec)?;
            self.bump_serial(ws)
        })
    }

    /// Removes one resource instance from state.
    fn delete_resource(&self, ws: &str, address: &str) -> Result<bool> {
        self.in_tx(|| {
            let n = self
                .conn
                .prepare_cached("DELETE FROM resources WHERE workspace = ?1 AND address = ?2")?
                .execute(params![ws, address])?;
            self.bump_serial(ws)?;
            Ok(n > 0)
        })
    }

    /// Renames a resource instance (`state mv`). Fails if the target exists.
    fn move_resource(&self, ws: &str, from: &str, to: &str) -> Result<bool> {
        self.in_tx(|| {
            let n = self.conn.execute(
                "UPDATE resources SET address = ?3 WHERE workspace = ?1 AND address = ?2
                 AND NOT EXISTS (SELECT 1 FROM resources WHERE workspace = ?1 AND address = ?3)",
                params![ws, from, to],
            )?;
            self.bump_serial(ws)?;
            Ok(n > 0)
        })
    }

    /// Records several finished steps in one transaction (steps that finished together).
    fn apply_steps(&self, ws: &str, steps: &[StepWrite]) -> Result<()> {
        if steps.is_empty() {
            return Ok(());
        }
        self.in_tx(|| {
            let mut changed = false;
            for st in steps {
                let addr = match st {
                    StepWrite::Put(r) => {
                        self.upsert(ws, r)?;
                        changed = true;
                        &r.address
                    }
                    StepWrite::Delete(a) => {
                        self.conn
                            .prepare_cached(
                                "DELETE FROM resources WHERE workspace = ?1 AND address = ?2",
                            )?
                            .execute(params![ws, a])?;
                        changed = true;
                        a
                    }
                    StepWrite::ClearIntent(a) => a,
                };
                self.conn
                    .prepare_cached("DELETE FROM intents WHERE workspace = ?1 AND address = ?2")?
                    .execute(params![ws, addr])?;
            }
            if changed {
                self.bump_serial(ws)?;
            }
            Ok(())
        })
    }

    /// Records several intents in one transaction (calls about to start together).
    fn record_intents(&self, ws: &str, intents: &[Intent]) -> Result<()> {
        if intents.is_empty() {
            return Ok(());
        }
        self.in_tx(|| {
            for intent in intents {
                self.conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO intents(workspace, address, op, token, run_id, started_at, planned)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )?
                    .execute(params![ws, intent.address, intent.op, intent.token, intent.run_id, intent.started_at, intent.planned.to_string()])?;
            }
            Ok(())
        })
    }

    /// Intents left behind by runs that died mid-call.
    fn intents(&self, ws: &str) -> Result<Vec<Intent>> {
        let mut st = self
            .conn
            .prepare("SELECT address, op, token, run_id, started_at, planned FROM intents WHERE workspace = ?1 ORDER BY address")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![ws], |r| {
                let planned: String = r.get(5)?;
                Ok(Intent {
                    address: r.get(0)?,
                    op: r.get(1)?,
                    token: r.get(2)?,
                    run_id: r.get(3)?,
                    started_at: r.get(4)?,
                    planned: serde_json::from_str(&planned).unwrap_or(serde_json::Value::Null),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Replaces the workspace's outputs.
    fn set_outputs(&self, ws: &str, outputs: &[OutputRecord]) -> Result<()> {
        self.in_tx(|| {
            self.conn.execute("DELETE FROM outputs WHERE workspace = ?1", params![ws])?;
            for o in outputs {
                self.conn.execute(
                    "INSERT INTO outputs(workspace, name, value, sensitive) VALUES (?1, ?2, ?3, ?4)",
                    params![ws, o.name, o.value.to_string(), o.sensitive],
                )?;
            }
            Ok(())
        })
    }

    fn outputs(&self, ws: &str) -> Result<Vec<OutputRecord>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT name, value, sensitive FROM outputs WHERE workspace = ?1 ORDER BY name",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![ws], |r| {
                let v: String = r.get(1)?;
                Ok(OutputRecord {
                    name: r.get(0)?,
                    value: serde_json::from_str(&v).unwrap_or(serde_json::Value::Null),
                    sensitive: r.get(2)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Starts a run in the history and returns its id.
    fn begin_run(&self, ws: &str, command: &str) -> Result<i64> {
        let (user, host) = (lock::current_user(), lock::hostname());
        self.conn
            .execute(
                "INSERT INTO runs(workspace, command, user, host, pid, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![ws, command, user, host, std::process::id() as i64, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    fn finish_run(&self, run_id: i64, result: &str, counts: RunCounts) -> Result<()> {
        self.conn
            .execute(
                "UPDATE runs SET finished_at = ?2, result = ?3, added = ?4, changed = ?5, destroyed = ?6, failed = ?7 WHERE id = ?1",
                params![run_id, now(), result, counts.added, counts.changed, counts.destroyed, counts.failed],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn runs(&self, ws: &str) -> Result<Vec<RunRecord>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, workspace, command, user, host, pid, started_at, finished_at, result, added, changed, destroyed, failed
                 FROM runs WHERE workspace = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![ws], |r| {
                Ok(RunRecord {
                    id: r.get(0)?,
                    workspace: r.get(1)?,
                    command: r.get(2)?,
                    user: r.get(3)?,
                    host: r.get(4)?,
                    pid: r.get(5)?,
                    started_at: r.get(6)?,
                    finished_at: r.get(7)?,
                    result: r.get(8)?,
                    added: r.get(9)?,
                    changed: r.get(10)?,
                    destroyed: r.get(11)?,
                    failed: r.get(12)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Deletes a workspace and everything in it.
    fn delete_workspace(&self, ws: &str) -> Result<()> {
        self.in_tx(|| {
            for t in [
                "resources",
                "outputs",
                "intents",
                "locks",
                "workspace_metadata",
            ] {
                self.conn.execute(
                    &format!("DELETE FROM {t} WHERE workspace = ?1"),
                    params![ws],
                )?;
            }
            self.conn
                .execute("DELETE FROM workspaces WHERE name = ?1", params![ws])?;
            Ok(())
        })
    }

    fn metadata(&self, ws: &str) -> Result<std::collections::BTreeMap<String, String>> {
        let mut st = self
            .conn
            .prepare("SELECT key, value FROM workspace_metadata WHERE workspace = ?1 ORDER BY key")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![ws], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    fn set_metadata(&self, ws: &str, entries: &[(String, String)]) -> Result<()> {
        self.in_tx(|| {
            for (k, v) in entries {
                self.conn.execute(
                    "INSERT OR REPLACE INTO workspace_metadata(workspace, key, value) VALUES (?1, ?2, ?3)",
                    params![ws, k, v],
                )?;
            }
            Ok(())
        })
    }

    fn lock_holder(&self, ws: &str) -> Result<Option<LockInfo>> {
        lock::holder(self, ws)
    }

    fn acquire_lock(
        &self,
        ws: &str,
        command: &str,
        timeout: std::time::Duration,
    ) -> Result<LockOutcome> {
        lock::acquire(self, ws, command, timeout)
    }

    fn release_lock(&self, ws: &str, id: &str) -> Result<()> {
        lock::release(self, ws, id)
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(|_| ())
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<()> {
    std::fs::File::create(path).map(|_| ())
}

#[cfg(test)]
mod tests;
