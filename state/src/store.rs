//! The one interface of a state backend. The engine holds a `&dyn StateStore` and does not know
//! which backend it has: the SQLite file (`Store`, the default, `backend "local"`) or a shared
//! database (the PostgreSQL store, `backend "pg"`, in its own crate so that only it depends on a
//! PostgreSQL client).
//!
//! Every backend keeps the same guarantees: each finished step is written in its own
//! transaction as it finishes (`apply_steps`), intents are durable before their calls start
//! (`record_intents`), and a workspace's lock names its holder and is taken over, and reported,
//! when that holder is gone.

use std::time::Duration;

use crate::{
    Intent, LockInfo, LockOutcome, OutputRecord, ResourceRecord, Result, RunCounts, RunRecord,
    StateError, StepWrite, WorkspaceMeta,
};

pub trait StateStore: Send {
    /// Where the state lives, for messages (a file path, or a database without its password).
    fn location(&self) -> String;

    /// Returns the workspace, creating it (with a new lineage) if needed.
    fn workspace(&self, name: &str) -> Result<WorkspaceMeta>;

    /// The workspace if it exists.
    fn workspace_meta(&self, name: &str) -> Result<Option<WorkspaceMeta>>;

    /// Every workspace, by name.
    fn list_workspaces(&self) -> Result<Vec<WorkspaceMeta>>;

    /// Deletes a workspace and everything in it.
    fn delete_workspace(&self, ws: &str) -> Result<()>;

    /// Calls `f` with every resource instance of a workspace, in address order, without holding
    /// them all in memory at once.
    fn for_each_resource(&self, ws: &str, f: &mut dyn FnMut(ResourceRecord)) -> Result<()>;

    /// All resource instances of a workspace, ordered by address.
    fn resources(&self, ws: &str) -> Result<Vec<ResourceRecord>> {
        let mut out = Vec::new();
        self.for_each_resource(ws, &mut |r| out.push(r))?;
        Ok(out)
    }

    /// One resource instance.
    fn resource(&self, ws: &str, address: &str) -> Result<Option<ResourceRecord>> {
        Ok(self
            .resources(ws)?
            .into_iter()
            .find(|r| r.address == address))
    }

    /// Writes one resource instance (insert or replace) in its own transaction.
    fn put_resource(&self, ws: &str, rec: &ResourceRecord) -> Result<()>;

    /// Removes one resource instance from state.
    fn delete_resource(&self, ws: &str, address: &str) -> Result<bool>;

    /// Renames a resource instance (`state mv`). False if `from` is missing or `to` exists.
    fn move_resource(&self, ws: &str, from: &str, to: &str) -> Result<bool>;

    /// Records several finished steps in one transaction (steps that finished together); each
    /// clears its intent.
    fn apply_steps(&self, ws: &str, steps: &[StepWrite]) -> Result<()>;

    /// Records the outcome of a step and clears its intent, atomically: `Some` writes the
    /// instance, `None` removes it.
    fn complete_step(&self, ws: &str, address: &str, rec: Option<&ResourceRecord>) -> Result<()> {
        let step = match rec {
            Some(r) => StepWrite::Put(r.clone()),
            None => StepWrite::Delete(address.to_string()),
        };
        self.apply_steps(ws, &[step])
    }

    /// Records several intents in one transaction (calls about to start together).
    fn record_intents(&self, ws: &str, intents: &[Intent]) -> Result<()>;

    /// Records that a mutating call is about to be made for `address`.
    fn record_intent(&self, ws: &str, intent: &Intent) -> Result<()> {
        self.record_intents(ws, std::slice::from_ref(intent))
    }

    /// Clears an intent without touching the resource (the call failed before doing anything).
    fn clear_intent(&self, ws: &str, address: &str) -> Result<()> {
        self.apply_steps(ws, &[StepWrite::ClearIntent(address.to_string())])
    }

    /// Intents left behind by runs that died mid-call, by address.
    fn intents(&self, ws: &str) -> Result<Vec<Intent>>;

    /// Replaces the workspace's outputs.
    fn set_outputs(&self, ws: &str, outputs: &[OutputRecord]) -> Result<()>;

    /// The workspace's outputs, by name.
    fn outputs(&self, ws: &str) -> Result<Vec<OutputRecord>>;

    /// Starts a run in the history and returns its id.
    fn begin_run(&self, ws: &str, command: &str) -> Result<i64>;

    /// Ends a run with its result and counts.
    fn finish_run(&self, run_id: i64, result: &str, counts: RunCounts) -> Result<()>;

    /// The workspace's runs, oldest first.
    fn runs(&self, ws: &str) -> Result<Vec<RunRecord>>;

    /// The workspace's metadata: what a tool on top of the engine keeps about it (an
    /// environment's branch, creation and expiry), by key.
    fn metadata(&self, ws: &str) -> Result<std::collections::BTreeMap<String, String>>;

    /// Sets metadata entries (insert or replace), in one transaction.
    fn set_metadata(&self, ws: &str, entries: &[(String, String)]) -> Result<()>;

    /// The current holder of the workspace lock, if any.
    fn lock_holder(&self, ws: &str) -> Result<Option<LockInfo>>;

    /// Takes the workspace lock, waiting up to `timeout` for a live holder to release it; a
    /// holder that is gone is taken over and reported.
    fn acquire_lock(&self, ws: &str, command: &str, timeout: Duration) -> Result<LockOutcome>;

    /// Releases a lock this process holds.
    fn release_lock(&self, ws: &str, id: &str) -> Result<()>;

    /// Removes a lock by id, whoever holds it (`terrane force-unlock ID`).
    fn force_unlock(&self, ws: &str, id: &str) -> Result<LockInfo> {
        match self.lock_holder(ws)? {
            Some(h) if h.id == id => {
                self.release_lock(ws, id)?;
                Ok(h)
            }
            _ => Err(StateError::NoSuchLock(id.to_string(), ws.to_string())),
        }
    }
}
