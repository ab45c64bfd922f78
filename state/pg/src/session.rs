//! The connection's thread: it owns the client, runs the store's queries in order, and opens
//! the connection again when it drops (taking the store's locks again first).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

/// How long a dropped connection is tried again before the call fails.
const RECONNECT: Duration = Duration::from_secs(30);

/// A query for the connection's thread. It runs with the client (`None`: the store has lost a
/// lock, and must not write) and `last` set on its final try; it returns false when the
/// connection closed under it, so that the thread connects again and runs it once more.
pub(crate) type Job = Box<dyn FnMut(Option<&mut Client>, bool) -> bool + Send>;

/// Workspace -> (lock id, advisory key) of the locks a store holds.
pub(crate) type Held = Arc<Mutex<HashMap<String, (String, i64)>>>;

/// The connection's thread: runs jobs in order, and connects again when the connection drops.
pub(crate) struct Session {
    pub(crate) conn_str: String,
    pub(crate) client: Client,
    pub(crate) held: Held,
    pub(crate) lost: Arc<AtomicBool>,
}

impl Session {
    pub(crate) fn serve(mut self, rx: mpsc::Receiver<Job>) {
        for mut job in rx {
            if self.lost.load(Ordering::SeqCst) {
                job(None, true);
                continue;
            }
            if job(Some(&mut self.client), false) {
                continue;
            }
            tracing::warn!("the connection to the state database dropped; connecting again");
            match self.reconnect() {
                Ok(()) if !self.lost.load(Ordering::SeqCst) => {
                    job(Some(&mut self.client), true);
                }
                // Still down, or a lock is gone: the job reports its error.
                Ok(()) => {
                    job(None, true);
                }
                Err(()) => {
                    job(Some(&mut self.client), true);
                }
            }
        }
    }

    /// Connects again (backing off, for up to [`RECONNECT`]) and takes the held locks again.
    fn reconnect(&mut self) -> std::result::Result<(), ()> {
        let deadline = Instant::now() + RECONNECT;
        let mut delay = Duration::from_millis(100);
        let client = loop {
            match Client::connect(&self.conn_str, NoTls) {
                Ok(c) => break c,
                Err(e) if Instant::now() + delay < deadline => {
                    tracing::debug!(error = %e, "state database unreachable; retrying");
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
                Err(_) => return Err(()),
            }
        };
        self.client = client;
        let keys: Vec<(String, i64)> = self
            .held
            .lock()
            .unwrap()
            .iter()
            .map(|(ws, (_, k))| (ws.clone(), *k))
            .collect();
        for (ws, key) in keys {
            let got = self
                .client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .map(|r| r.get::<_, bool>(0))
                .unwrap_or(false);
            if !got {
                tracing::error!(workspace = %ws, "the workspace lock was taken by another run while the connection was down");
                self.lost.store(true, Ordering::SeqCst);
            }
        }
        Ok(())
    }
}
