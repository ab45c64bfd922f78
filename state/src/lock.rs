//! The workspace lock: one row naming its holder. A second run waits up to a timeout, then fails
//! naming the holder. A lock whose holder process is gone on this host is taken over (and
//! reported), so a crashed run never blocks the next one.

use std::fmt;
use std::time::{Duration, Instant};

use rusqlite::{params, OptionalExtension};

use crate::{now, random_hex, Result, StateError, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInfo {
    pub id: String,
    pub pid: i64,
    pub host: String,
    pub user: String,
    pub command: String,
    pub since: String,
}

impl fmt::Display for LockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` (pid {} on {} as {}, since {}; lock id {})",
            self.command, self.pid, self.host, self.user, self.since, self.id
        )
    }
}

impl LockInfo {
    /// A new lock, with a new id, for this process running `command`.
    pub fn this_process(command: &str) -> LockInfo {
        LockInfo {
            id: random_hex(8),
            pid: std::process::id() as i64,
            host: hostname(),
            user: current_user(),
            command: command.to_string(),
            since: now(),
        }
    }
}

/// Result of taking the lock.
#[derive(Debug, Clone)]
pub struct LockOutcome {
    pub held: LockInfo,
    /// A stale lock (dead holder on this host) that was taken over.
    pub took_over: Option<LockInfo>,
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

pub fn current_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

#[cfg(unix)]
fn process_alive(pid: i64) -> bool {
    // /proc is authoritative on Linux; fall back to "alive" (never steal a live lock).
    let proc_dir = std::path::Path::new("/proc");
    if proc_dir.join("self").exists() {
        return match std::fs::read_to_string(proc_dir.join(pid.to_string()).join("stat")) {
            // A zombie (state Z) has exited; its parent just has not reaped it yet.
            Ok(stat) => !stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
                .unwrap_or(false),
            Err(_) => false,
        };
    }
    true
}

#[cfg(not(unix))]
fn process_alive(_pid: i64) -> bool {
    true
}

/// The current holder of the workspace lock, if any.
pub(crate) fn holder(s: &Store, ws: &str) -> Result<Option<LockInfo>> {
    read_holder(&s.conn, ws).map_err(|e| s.err(e))
}

fn read_holder(conn: &rusqlite::Connection, ws: &str) -> rusqlite::Result<Option<LockInfo>> {
    conn.query_row(
        "SELECT id, pid, host, user, command, since FROM locks WHERE workspace = ?1",
        params![ws],
        |r| {
            Ok(LockInfo {
                id: r.get(0)?,
                pid: r.get(1)?,
                host: r.get(2)?,
                user: r.get(3)?,
                command: r.get(4)?,
                since: r.get(5)?,
            })
        },
    )
    .optional()
}

/// Takes the workspace lock, waiting up to `timeout` for a live holder to release it.
pub(crate) fn acquire(
    s: &Store,
    ws: &str,
    command: &str,
    timeout: Duration,
) -> Result<LockOutcome> {
    let deadline = Instant::now() + timeout;
    let me = LockInfo::this_process(command);
    loop {
        let attempt = s.in_tx(|| {
            let holder = read_holder(&s.conn, ws)?;
            let stale = holder
                .as_ref()
                .is_some_and(|h| h.host == me.host && !process_alive(h.pid));
            if let Some(h) = holder.as_ref().filter(|_| !stale) {
                return Ok(Err(h.clone()));
            }
            {
                s.conn.execute(
                    "INSERT OR REPLACE INTO locks(workspace, id, pid, host, user, command, since)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![ws, me.id, me.pid, me.host, me.user, me.command, me.since],
                )?;
                Ok(Ok(holder))
            }
        })?;
        match attempt {
            Ok(stale) => {
                return Ok(LockOutcome {
                    held: me,
                    took_over: stale,
                })
            }
            Err(holder) => {
                if Instant::now() >= deadline {
                    return Err(StateError::Locked(Box::new(holder)));
                }
                std::thread::sleep(Duration::from_millis(100).min(deadline - Instant::now()));
            }
        }
    }
}

/// Releases a lock this process holds.
pub(crate) fn release(s: &Store, ws: &str, id: &str) -> Result<()> {
    s.conn
        .execute(
            "DELETE FROM locks WHERE workspace = ?1 AND id = ?2",
            params![ws, id],
        )
        .map_err(|e| s.err(e))?;
    Ok(())
}
