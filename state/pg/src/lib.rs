//! Terrane's state on PostgreSQL (`backend "pg"`): the same model as the SQLite store
//! (workspaces, resources, outputs, runs, intents, locks), in one schema of a database every CI
//! runner reaches, with the same guarantees (see [`terrane_state::StateStore`]).
//!
//! - Every finished step is written in its own transaction, as in SQLite.
//! - A workspace's lock is a session-level advisory lock (`pg_try_advisory_lock`) plus a row
//!   that names its holder. The advisory lock belongs to the holder's connection: when the
//!   holder dies (even by SIGKILL) the server ends its session and the lock is free, so the next
//!   run takes it over and reports the row it found. Workspaces lock independently.
//! - The blocking client runs on a thread of its own, which owns the connection; the store's
//!   methods hand it their queries and wait, as SQLite's calls block, so the store is usable
//!   from inside the engine's async runtime.
//! - A connection that drops (a server restart, a network failure) is opened again, for up to
//!   30 s, and the query that met the drop runs again (every write is one transaction, and
//!   idempotent); the workspace locks this store held are taken again first. If another run
//!   took one meanwhile, the store stops: every call fails saying the lock was lost, and
//!   nothing more is written.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

mod rows;
mod schema;
mod session;

use rows::{
    bump_serial, json_or_null, lock_info, prepare_upsert, resource_row, upsert, RESOURCE_COLUMNS,
};
use schema::MIGRATIONS;
use session::{Held, Job, Session};
use terrane_state::{
    now, Intent, LockInfo, LockOutcome, OutputRecord, ResourceRecord, Result, RunCounts, RunRecord,
    StateError, StateStore, StepWrite, WorkspaceMeta,
};

/// Terraform's pg backend default schema name is `terraform_remote_state`; Terrane's is its own.
pub const DEFAULT_SCHEMA: &str = "terrane";

/// Resources read per query by `for_each_resource` (keyset pages, so memory stays bounded).
const PAGE: i64 = 1000;

/// The state in one schema of a PostgreSQL database.
pub struct PgStore {
    jobs: mpsc::Sender<Job>,
    /// The connection string without its password.
    location: String,
    /// The schema name, quoted for SQL.
    schema: String,
    /// The schema name as given (the locks' keys are derived from it).
    schema_name: String,
    /// The locks this store holds (shared with the connection's thread, which takes them
    /// again after a reconnection).
    held: Held,
    /// A held lock was taken by another run while the connection was down.
    lost: Arc<AtomicBool>,
}

const LOCK_LOST: &str = "the connection to the state database dropped and another run took this run's workspace lock meanwhile; nothing more is written by this run";

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("location", &self.location)
            .field("schema", &self.schema_name)
            .finish()
    }
}

/// `conn` without its password, for messages: `postgres://user:secret@host/db` becomes
/// `postgres://user@host/db`, and a `password=...` setting is dropped.
pub fn redact(conn: &str) -> String {
    if let Some((scheme, rest)) = conn.split_once("://") {
        let (auth, host) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        return match auth {
            Some(a) => {
                let user = a.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}@{host}")
            }
            None => conn.to_string(),
        };
    }
    conn.split_whitespace()
        .filter(|kv| !kv.starts_with("password="))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A schema name Terrane puts in SQL: letters, digits and `_`, not starting with a digit.
fn quote_schema(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    (first_ok && name.len() <= 63 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| format!("\"{name}\""))
}

/// The advisory lock key of a workspace (FNV-1a of schema and name, 62 bits so it is never
/// negative).
fn lock_key(schema: &str, ws: &str) -> i64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in schema.bytes().chain([0]).chain(ws.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    (h & 0x3fff_ffff_ffff_ffff) as i64
}

impl PgStore {
    /// Connects to `conn` (a libpq connection string or URL, as Terraform's `conn_str`) and
    /// creates or migrates the schema `schema`.
    pub fn connect(conn: &str, schema: &str) -> Result<PgStore> {
        let location = redact(conn);
        let fail = |message: String| StateError::Backend {
            location: location.clone(),
            message,
        };
        let quoted = quote_schema(schema).ok_or_else(|| {
            fail(format!(
                "schema_name {schema:?} must be letters, digits and _ (not starting with a digit)"
            ))
        })?;
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let conn_str = conn.to_string();
        let held: Held = Arc::new(Mutex::new(HashMap::new()));
        let lost = Arc::new(AtomicBool::new(false));
        let (h, l) = (held.clone(), lost.clone());
        std::thread::Builder::new()
            .name("terrane-pg".into())
            .spawn(move || match Client::connect(&conn_str, NoTls) {
                Ok(client) => {
                    let _ = ready_tx.send(Ok(()));
                    Session {
                        conn_str,
                        client,
                        held: h,
                        lost: l,
                    }
                    .serve(rx);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                }
            })
            .map_err(|e| fail(e.to_string()))?;
        ready_rx
            .recv()
            .map_err(|e| fail(e.to_string()))?
            .map_err(|e| fail(format!("cannot connect: {e}")))?;
        let store = PgStore {
            jobs,
            location,
            schema: quoted,
            schema_name: schema.to_string(),
            held,
            lost,
        };
        store.migrate()?;
        Ok(store)
    }

    /// The server process serving this store's connection (`pg_backend_pid()`).
    pub fn session_pid(&self) -> Result<i32> {
        self.call(|c, _| Ok(c.query_one("SELECT pg_backend_pid()", &[])?.get(0)))
    }

    fn err(&self, e: impl std::fmt::Display) -> StateError {
        StateError::Backend {
            location: self.location.clone(),
            message: e.to_string(),
        }
    }

    /// Runs `f` on the connection's thread with the quoted schema name, and waits for it. `f`
    /// may run twice: again on a new connection when the first one dropped under it.
    fn call<T: Send + 'static>(
        &self,
        f: impl Fn(&mut Client, &str) -> std::result::Result<T, postgres::Error> + Send + 'static,
    ) -> Result<T> {
        if self.lost.load(Ordering::SeqCst) {
            return Err(self.err(LOCK_LOST));
        }
        let (tx, rx) = mpsc::channel::<std::result::Result<T, String>>();
        let schema = self.schema.clone();
        let job: Job = Box::new(move |c: Option<&mut Client>, last: bool| {
            let Some(c) = c else {
                let _ = tx.send(Err(LOCK_LOST.to_string()));
                return true;
            };
            match f(c, &schema) {
                Err(e) if !last && (e.is_closed() || c.is_closed()) => false,
                r => {
                    let _ = tx.send(r.map_err(|e| pg_message(&e)));
                    true
                }
            }
        });
        self.jobs
            .send(job)
            .map_err(|_| self.err("the connection's thread has ended"))?;
        rx.recv()
            .map_err(|_| self.err("the connection's thread has ended"))?
            .map_err(|e| self.err(e))
    }

    fn migrate(&self) -> Result<()> {
        let name = self.schema_name.clone();
        let key = lock_key(&name, "");
        let latest = MIGRATIONS.len() as i64;
        let found = self.call(move |c, s| {
            let mut tx = c.transaction()?;
            // Two runners creating the schema at once: one does it, the other waits.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&key])?;
            tx.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {s};
                 CREATE TABLE IF NOT EXISTS {s}.schema_version (version BIGINT NOT NULL);"
            ))?;
            let current: i64 =
                match tx.query_opt(&format!("SELECT version FROM {s}.schema_version"), &[])? {
                    Some(r) => r.get(0),
                    None => {
                        tx.execute(
                            &format!("INSERT INTO {s}.schema_version (version) VALUES (0)"),
                            &[],
                        )?;
                        0
                    }
                };
            if current > latest {
                return Ok(Some(current));
            }
            for sql in MIGRATIONS.iter().skip(current as usize) {
                tx.batch_execute(&sql.replace("{s}", s))?;
            }
            tx.execute(
                &format!("UPDATE {s}.schema_version SET version = $1"),
                &[&latest],
            )?;
            tx.commit()?;
            Ok(None)
        })?;
        match found {
            Some(v) => Err(StateError::TooNew(
                format!("{} (schema {name})", self.location),
                v,
            )),
            None => Ok(()),
        }
    }
}

/// A database error's own message (with its detail), not only "db error".
fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(d) => format!("{}: {} ({d})", db.severity(), db.message()),
            None => format!("{}: {}", db.severity(), db.message()),
        },
        None => e.to_string(),
    }
}

impl StateStore for PgStore {
    fn location(&self) -> String {
        format!("{} (schema {})", self.location, self.schema_name)
    }

    fn workspace(&self, name: &str) -> Result<WorkspaceMeta> {
        if let Some(m) = self.workspace_meta(name)? {
            return Ok(m);
        }
        let (name, lineage) = (name.to_string(), new_lineage());
        self.call(move |c, s| {
            c.execute(
                &format!(
                    "INSERT INTO {s}.workspaces (name, lineage, serial, created_at) VALUES ($1, $2, 0, $3)
                     ON CONFLICT (name) DO NOTHING"
                ),
                &[&name, &lineage, &now()],
            )?;
            let r = c.query_one(
                &format!("SELECT name, lineage, serial FROM {s}.workspaces WHERE name = $1"),
                &[&name],
            )?;
            Ok(WorkspaceMeta {
                name: r.get(0),
                lineage: r.get(1),
                serial: r.get(2),
            })
        })
    }

    fn workspace_meta(&self, name: &str) -> Result<Option<WorkspaceMeta>> {
        let name = name.to_string();
        self.call(move |c, s| {
            Ok(c.query_opt(
                &format!("SELECT name, lineage, serial FROM {s}.workspaces WHERE name = $1"),
                &[&name],
            )?
            .map(|r| WorkspaceMeta {
                name: r.get(0),
                lineage: r.get(1),
                serial: r.get(2),
            }))
        })
    }

    fn list_workspaces(&self) -> Result<Vec<WorkspaceMeta>> {
        self.call(move |c, s| {
            Ok(c.query(
                &format!("SELECT name, lineage, serial FROM {s}.workspaces ORDER BY name"),
                &[],
            )?
            .iter()
            .map(|r| WorkspaceMeta {
                name: r.get(0),
                lineage: r.get(1),
                serial: r.get(2),
            })
            .collect())
        })
    }

    fn delete_workspace(&self, ws: &str) -> Result<()> {
        let ws = ws.to_string();
        self.call(move |c, s| {
            let mut tx = c.transaction()?;
            for t in [
                "resources",
                "outputs",
                "intents",
                "locks",
                "workspace_metadata",
            ] {
                tx.execute(&format!("DELETE FROM {s}.{t} WHERE workspace = $1"), &[&ws])?;
            }
            tx.execute(
                &format!("DELETE FROM {s}.workspaces WHERE name = $1"),
                &[&ws],
            )?;
            tx.commit()
        })
    }

    fn for_each_resource(&self, ws: &str, f: &mut dyn FnMut(ResourceRecord)) -> Result<()> {
        // Keyset pages by address: no page holds more than PAGE rows.
        let mut after = String::new();
        let mut first = true;
        loop {
            let (w, a) = (ws.to_string(), after.clone());
            let rows = self.call(move |c, s| {
                let rows = c.query(
                    &format!(
                        "SELECT {RESOURCE_COLUMNS} FROM {s}.resources
                         WHERE workspace = $1 AND ($2 OR address > $3)
                         ORDER BY address LIMIT $4"
                    ),
                    &[&w, &first, &a, &PAGE],
                )?;
                Ok(rows.iter().map(resource_row).collect::<Vec<_>>())
            })?;
            first = false;
            let n = rows.len();
            for row in rows {
                let rec = row.record()?;
                after.clone_from(&rec.address);
                f(rec);
            }
            if (n as i64) < PAGE {
                return Ok(());
            }
        }
    }

    fn resource(&self, ws: &str, address: &str) -> Result<Option<ResourceRecord>> {
        let (ws, address) = (ws.to_string(), address.to_string());
        self.call(move |c, s| {
            Ok(c.query_opt(
                &format!(
                    "SELECT {RESOURCE_COLUMNS} FROM {s}.resources WHERE workspace = $1 AND address = $2"
                ),
                &[&ws, &address],
            )?
            .map(|r| resource_row(&r)))
        })?
        .map(|row| row.record())
        .transpose()
    }

    fn put_resource(&self, ws: &str, rec: &ResourceRecord) -> Result<()> {
        let (ws, rec) = (ws.to_string(), rec.clone());
        self.call(move |c, s| {
            let mut tx = c.transaction()?;
            let stmt = prepare_upsert(&mut tx, s)?;
            upsert(&mut tx, &stmt, &ws, &rec)?;
            bump_serial(&mut tx, s, &ws)?;
            tx.commit()
        })
    }

    fn delete_resource(&self, ws: &str, address: &str) -> Result<bool> {
        let (ws, address) = (ws.to_string(), address.to_string());
        self.call(move |c, s| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                &format!("DELETE FROM {s}.resources WHERE workspace = $1 AND address = $2"),
                &[&ws, &address],
            )?;
            bump_serial(&mut tx, s, &ws)?;
            tx.commit()?;
            Ok(n > 0)
        })
    }

    fn move_resource(&self, ws: &str, from: &str, to: &str) -> Result<bool> {
        let (ws, from, to) = (ws.to_string(), from.to_string(), to.to_string());
        self.call(move |c, s| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                &format!(
                    "UPDATE {s}.resources SET address = $3 WHERE workspace = $1 AND address = $2
                     AND NOT EXISTS (SELECT 1 FROM {s}.resources WHERE workspace = $1 AND address = $3)"
                ),
                &[&ws, &from, &to],
            )?;
            bump_serial(&mut tx, s, &ws)?;
            tx.commit()?;
            Ok(n > 0)
        })
    }

    fn apply_steps(&self, ws: &str, steps: &[StepWrite]) -> Result<()> {
        if steps.is_empty() {
            return Ok(());
        }
        let (ws, steps) = (ws.to_string(), steps.to_vec());
        self.call(move |c, s| {
            let mut tx = c.transaction()?;
            let mut changed = false;
            let put = prepare_upsert(&mut tx, s)?;
            let delete = tx.prepare(&format!(
                "DELETE FROM {s}.resources WHERE workspace = $1 AND address = $2"
            ))?;
            let mut cleared: Vec<&str> = Vec::with_capacity(steps.len());
            for st in &steps {
                let addr = match st {
                    StepWrite::Put(r) => {
                        upsert(&mut tx, &put, &ws, r)?;
                        changed = true;
                        &r.address
                    }
                    StepWrite::Delete(a) => {
                        tx.execute(&delete, &[&ws, a])?;
                        changed = true;
                        a
                    }
                    StepWrite::ClearIntent(a) => a,
                };
                cleared.push(addr);
            }
            // Every step's intent, in one statement.
            tx.execute(
                &format!("DELETE FROM {s}.intents WHERE workspace = $1 AND address = ANY($2)"),
                &[&ws, &cleared],
            )?;
            if changed {
                bump_serial(&mut tx, s, &ws)?;
            }
            tx.commit()
        })
    }

    fn record_intents(&self, ws: &str, intents: &[Intent]) -> Result<()> {
        if intents.is_empty() {
            return Ok(());
        }
        let (ws, intents) = (ws.to_string(), intents.to_vec());
        self.call(move |c, s| {
            let mut tx = c.transaction()?;
            let stmt = tx.prepare(&format!(
                "INSERT INTO {s}.intents (workspace, address, op, token, run_id, started_at, planned)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (workspace, address) DO UPDATE SET op = excluded.op,
                   token = excluded.token, run_id = excluded.run_id,
                   started_at = excluded.started_at, planned = excluded.planned"
            ))?;
            for i in &intents {
                tx.execute(
                    &stmt,
                    &[
                        &ws,
                        &i.address,
                        &i.op,
                        &i.token,
                        &i.run_id,
                        &i.started_at,
                        &i.planned.to_string(),
                    ],
                )?;
            }
            tx.commit()
        })
    }

    fn intents(&self, ws: &str) -> Result<Vec<Intent>> {
        let ws = ws.to_string();
        self.call(move |c, s| {
            Ok(c.query(
                &format!(
                    "SELECT address, op, token, run_id, started_at, planned FROM {s}.intents
                     WHERE workspace = $1 ORDER BY address"
                ),
                &[&ws],
            )?
            .iter()
            .map(|r| Intent {
                address: r.get(0),
                op: r.get(1),
                token: r.get(2),
                run_id: r.get(3),
                started_at: r.get(4),
                planned: json_or_null(r.get(5)),
            })
            .collect())
        })
    }

    fn set_outputs(&self, ws: &str, outputs: &[OutputRecord]) -> Result<()> {
        let (ws, outputs) = (ws.to_string(), outputs.to_vec());
        self.call(move |c, s| {
            let mut tx = c.transaction()?;
            tx.execute(&format!("DELETE FROM {s}.outputs WHERE workspace = $1"), &[&ws])?;
            for o in &outputs {
                tx.execute(
                    &format!(
                        "INSERT INTO {s}.outputs (workspace, name, value, sensitive) VALUES ($1, $2, $3, $4)"
                    ),
                    &[&ws, &o.name, &o.value.to_string(), &o.sensitive],
                )?;
            }
            tx.commit()
        })
    }

    fn outputs(&self, ws: &str) -> Result<Vec<OutputRecord>> {
        let ws = ws.to_string();
        self.call(move |c, s| {
            Ok(c.query(
                &format!(
                    "SELECT name, value, sensitive FROM {s}.outputs WHERE workspace = $1 ORDER BY name"
                ),
                &[&ws],
            )?
            .iter()
            .map(|r| OutputRecord {
                name: r.get(0),
                value: json_or_null(r.get(1)),
                sensitive: r.get(2),
            })
            .collect())
        })
    }

    fn begin_run(&self, ws: &str, command: &str) -> Result<i64> {
        let (ws, command) = (ws.to_string(), command.to_string());
        let (user, host) = (terrane_state::current_user(), terrane_state::hostname());
        let pid = std::process::id() as i64;
        self.call(move |c, s| {
            let r = c.query_one(
                &format!(
                    "INSERT INTO {s}.runs (workspace, command, run_user, host, pid, started_at)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
                ),
                &[&ws, &command, &user, &host, &pid, &now()],
            )?;
            Ok(r.get(0))
        })
    }

    fn finish_run(&self, run_id: i64, result: &str, counts: RunCounts) -> Result<()> {
        let result = result.to_string();
        self.call(move |c, s| {
            c.execute(
                &format!(
                    "UPDATE {s}.runs SET finished_at = $2, result = $3, added = $4, changed = $5,
                     destroyed = $6, failed = $7 WHERE id = $1"
                ),
                &[
                    &run_id,
                    &now(),
                    &result,
                    &counts.added,
                    &counts.changed,
                    &counts.destroyed,
                    &counts.failed,
                ],
            )?;
            Ok(())
        })
    }

    fn runs(&self, ws: &str) -> Result<Vec<RunRecord>> {
        let ws = ws.to_string();
        self.call(move |c, s| {
            Ok(c.query(
                &format!(
                    "SELECT id, workspace, command, run_user, host, pid, started_at, finished_at,
                       result, added, changed, destroyed, failed
                     FROM {s}.runs WHERE workspace = $1 ORDER BY id"
                ),
                &[&ws],
            )?
            .iter()
            .map(|r| RunRecord {
                id: r.get(0),
                workspace: r.get(1),
                command: r.get(2),
                user: r.get(3),
                host: r.get(4),
                pid: r.get(5),
                started_at: r.get(6),
                finished_at: r.get(7),
                result: r.get(8),
                added: r.get(9),
                changed: r.get(10),
                destroyed: r.get(11),
                failed: r.get(12),
            })
            .collect())
        })
    }

    fn metadata(&self, ws: &str) -> Result<BTreeMap<String, String>> {
        let ws = ws.to_string();
        self.call(move |c, s| {
            Ok(c.query(
                &format!(
                    "SELECT key, value FROM {s}.workspace_metadata WHERE workspace = $1 ORDER BY key"
                ),
                &[&ws],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
        })
    }

    fn set_metadata(&self, ws: &str, entries: &[(String, String)]) -> Result<()> {
        let (ws, entries) = (ws.to_string(), entries.to_vec());
        self.call(move |c, s| {
            let mut tx = c.transaction()?;
            for (k, v) in &entries {
                tx.execute(
                    &format!(
                        "INSERT INTO {s}.workspace_metadata (workspace, key, value) VALUES ($1, $2, $3)
                         ON CONFLICT (workspace, key) DO UPDATE SET value = excluded.value"
                    ),
                    &[&ws, k, v],
                )?;
            }
            tx.commit()
        })
    }

    fn lock_holder(&self, ws: &str) -> Result<Option<LockInfo>> {
        let ws = ws.to_string();
        self.call(move |c, s| {
            Ok(c.query_opt(
                &format!(
                    "SELECT id, pid, host, lock_user, command, since FROM {s}.locks WHERE workspace = $1"
                ),
                &[&ws],
            )?
            .map(|r| lock_info(&r)))
        })
    }

    fn acquire_lock(&self, ws: &str, command: &str, timeout: Duration) -> Result<LockOutcome> {
        let deadline = Instant::now() + timeout;
        let me = LockInfo::this_process(command);
        let key = lock_key(&self.schema_name, ws);
        loop {
            // A lock this store holds already is held: advisory locks are re-entrant within a
            // session, the workspace lock is not.
            let mine = self.held.lock().unwrap().contains_key(ws);
            let attempt = if mine {
                Err(self.lock_holder(ws)?)
            } else {
                let (w, m) = (ws.to_string(), me.clone());
                self.call(move |c, s| {
                    let got: bool = c
                        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])?
                        .get(0);
                    let row = c
                        .query_opt(
                            &format!(
                                "SELECT id, pid, host, lock_user, command, since FROM {s}.locks WHERE workspace = $1"
                            ),
                            &[&w],
                        )?
                        .map(|r| lock_info(&r));
                    if !got {
                        return Ok(Err(row));
                    }
                    // The advisory lock is ours: a row left behind names a holder whose session
                    // has ended (killed, or its connection lost).
                    c.execute(
                        &format!(
                            "INSERT INTO {s}.locks (workspace, id, pid, host, lock_user, command, since)
                             VALUES ($1, $2, $3, $4, $5, $6, $7)
                             ON CONFLICT (workspace) DO UPDATE SET id = excluded.id, pid = excluded.pid,
                               host = excluded.host, lock_user = excluded.lock_user,
                               command = excluded.command, since = excluded.since"
                        ),
                        &[&w, &m.id, &m.pid, &m.host, &m.user, &m.command, &m.since],
                    )?;
                    Ok(Ok(row))
                })?
            };
            match attempt {
                Ok(stale) => {
                    self.held
                        .lock()
                        .unwrap()
                        .insert(ws.to_string(), (me.id.clone(), key));
                    if let Some(s) = &stale {
                        tracing::info!(holder = %s, "took over a lock whose holder is gone");
                    }
                    return Ok(LockOutcome {
                        held: me,
                        took_over: stale,
                    });
                }
                Err(holder) => {
                    if Instant::now() >= deadline {
                        let holder = holder.unwrap_or_else(|| LockInfo {
                            id: "unknown".into(),
                            pid: 0,
                            host: "unknown".into(),
                            user: "unknown".into(),
                            command: "another session that has not written its lock row yet".into(),
                            since: now(),
                        });
                        return Err(StateError::Locked(Box::new(holder)));
                    }
                    std::thread::sleep(Duration::from_millis(100).min(deadline - Instant::now()));
                }
            }
        }
    }

    fn release_lock(&self, ws: &str, id: &str) -> Result<()> {
        let mine = self
            .held
            .lock()
            .unwrap()
            .get(ws)
            .is_some_and(|(h, _)| h == id);
        let key = lock_key(&self.schema_name, ws);
        let (w, i) = (ws.to_string(), id.to_string());
        self.call(move |c, s| {
            c.execute(
                &format!("DELETE FROM {s}.locks WHERE workspace = $1 AND id = $2"),
                &[&w, &i],
            )?;
            if mine {
                c.execute("SELECT pg_advisory_unlock($1)", &[&key])?;
            }
            Ok(())
        })?;
        if mine {
            self.held.lock().unwrap().remove(ws);
        }
        Ok(())
    }
}

fn new_lineage() -> String {
    // The lineage only has to differ between workspaces created apart: time and pid suffice
    // with a counter, and the SQLite store's random form is kept (32 hex digits).
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:016x}{:016x}",
        t ^ ((std::process::id() as u64) << 32),
        n.wrapping_mul(0x9e3779b97f4a7c15)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://terrane:s3cret@db.internal:5432/state?sslmode=disable"),
            "postgres://terrane@db.internal:5432/state?sslmode=disable"
        );
        assert_eq!(
            redact("host=db user=terrane password=s3cret dbname=state"),
            "host=db user=terrane dbname=state"
        );
        assert_eq!(redact("postgres://db/state"), "postgres://db/state");
    }

    #[test]
    fn schema_names_are_identifiers() {
        assert_eq!(quote_schema("terrane").as_deref(), Some("\"terrane\""));
        assert_eq!(
            quote_schema("ci_state_2").as_deref(),
            Some("\"ci_state_2\"")
        );
        for bad in ["", "2x", "a-b", "a\"; DROP SCHEMA x; --", "a b"] {
            assert_eq!(quote_schema(bad), None, "{bad}");
        }
    }

    #[test]
    fn lock_keys_differ_by_workspace_and_schema_and_are_never_negative() {
        let keys = [
            lock_key("terrane", "a"),
            lock_key("terrane", "b"),
            lock_key("other", "a"),
            lock_key("terranea", ""),
        ];
        for (i, k) in keys.iter().enumerate() {
            assert!(*k >= 0);
            assert!(!keys[..i].contains(k));
        }
    }
}
