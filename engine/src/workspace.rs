//! Runs as a library API: the workflow every command shares (open the state, lock the
//! workspace naming the holder, plan, apply, record the run in history, release), so that the
//! binary only parses arguments, asks for confirmation and renders events, and a Rust program
//! can drive Terrane the same way (see `examples/library`).
//!
//! ```text
//! Workspace::open(state file, name)        read-only: outputs, instances, history, workspaces
//!   .lock(command, timeout) -> Locked      the lock is released when Locked is dropped
//!     .run(config, registry, options) -> Run
//!       .plan(&PlanOptions) -> Plan
//!       .apply(&Plan, sink, cancel) -> Applied     recorded in history
//!       .import(addr, id)                          recorded in history
//!     .saved(plan, config, registry, parallelism) -> Run   a saved plan, checked first
//!     .state_rm(..) / .state_mv(..)
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use terrane_core::{Diagnostic, Diagnostics, InstanceAddr, ProviderRegistry, Value};
pub use terrane_state::{LockInfo, OutputRecord, RunRecord, DEFAULT_FILE};
use terrane_state::{RunCounts, StateError, StateStore, StepWrite, Store};
use tokio::sync::watch;

use crate::apply::{check_saved_plan, ApplyOutcome};
use crate::config::Config;
use crate::events::{EventSink, NullSink};
use crate::plan::Plan;
use crate::planner::{target_matches, PlanOptions};
use crate::session::{state_err, Session, SessionOptions, StateInstance};

/// One workspace of a state database.
pub struct Workspace {
    store: Box<dyn StateStore>,
    default_tags: BTreeMap<String, String>,
    name: String,
}

/// How a run ended, as recorded in history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunResult {
    Ok,
    Failed,
    Interrupted,
}

impl RunResult {
    pub fn as_str(self) -> &'static str {
        match self {
            RunResult::Ok => "ok",
            RunResult::Failed => "failed",
            RunResult::Interrupted => "interrupted",
        }
    }
}

/// What an apply did.
pub struct Applied {
    pub outcome: ApplyOutcome,
    pub result: RunResult,
    /// The run's id in history.
    pub run_id: i64,
    /// The root module's outputs in state after the run.
    pub outputs: Vec<OutputRecord>,
}

/// Options of a run that are not in the configuration.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Root module variables.
    pub inputs: BTreeMap<String, Value>,
    /// Provider calls in flight at once (at least 1).
    pub parallelism: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            inputs: BTreeMap::new(),
            parallelism: 10,
        }
    }
}

fn read_err(e: StateError) -> Diagnostics {
    Diagnostic::error("Failed to read state", e.to_string()).into()
}

fn write_err(e: StateError) -> Diagnostics {
    Diagnostic::error("Failed to write state", e.to_string()).into()
}

/// A duration as a user would write it (`0s`, `30s`, `2m`, `500ms`).
fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        format!("{ms}ms")
    } else if ms >= 60_000 && ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else {
        format!("{}s", ms / 1000)
    }
}

impl Workspace {
    /// Opens (creating if needed) the state database at `state_path`, for workspace `name`.
    /// The workspace itself is created by the first run that locks it, or by [`Self::create`].
    pub fn open(state_path: &Path, name: &str) -> Result<Workspace, Diagnostics> {
        let store = Store::open(state_path).map_err(|e| {
            Diagnostics::from(Diagnostic::error("Failed to open state", e.to_string()))
        })?;
        Ok(Workspace::with_store(Box::new(store), name))
    }

    /// Workspace `name` of an open state backend (SQLite, PostgreSQL, ...).
    pub fn with_store(store: Box<dyn StateStore>, name: &str) -> Workspace {
        Workspace {
            store,
            name: name.to_string(),
            default_tags: BTreeMap::new(),
        }
    }

    /// Tags every run of this workspace adds to every taggable object (see
    /// [`crate::SessionOptions::default_tags`]).
    pub fn set_default_tags(&mut self, tags: BTreeMap<String, String>) {
        self.default_tags = tags;
    }

    /// Workspace `name`'s metadata (what a tool on top keeps about it), by key.
    pub fn metadata_of(&self, name: &str) -> Result<BTreeMap<String, String>, Diagnostics> {
        self.store.metadata(name).map_err(read_err)
    }

    /// Sets metadata entries of this workspace (creating it if needed).
    pub fn set_metadata(&self, entries: &[(String, String)]) -> Result<(), Diagnostics> {
        self.store.workspace(&self.name).map_err(write_err)?;
        self.store
            .set_metadata(&self.name, entries)
            .map_err(write_err)
    }

    /// Workspace `name`'s resource instances and runs (for listings of many workspaces).
    pub fn summary_of(&self, name: &str) -> Result<(usize, Vec<RunRecord>), Diagnostics> {
        let n = self.store.resources(name).map_err(read_err)?.len();
        Ok((n, self.store.runs(name).map_err(read_err)?))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the state lives (a file, or a database), for messages.
    pub fn location(&self) -> String {
        self.store.location()
    }

    /// Creates this workspace if it does not exist yet.
    pub fn create(&self) -> Result<(), Diagnostics> {
        self.store
            .workspace(&self.name)
            .map(|_| ())
            .map_err(|e| Diagnostic::error("Failed to open state", e.to_string()).into())
    }

    /// Whether a saved plan was made for this workspace (checked before anything is locked).
    pub fn accepts(&self, plan: &Plan) -> Result<(), Diagnostics> {
        if plan.workspace == self.name {
            return Ok(());
        }
        Err(Diagnostic::error(
            "Saved plan is for another workspace",
            format!(
                "The plan was made for workspace {:?}; the current workspace is {:?}.",
                plan.workspace, self.name
            ),
        )
        .into())
    }

    /// Takes the workspace lock for `command`, waiting up to `timeout` for another holder. A
    /// lock whose holder died on this host is taken over, with a warning in
    /// [`Locked::warnings`].
    pub fn lock(&self, command: &str, timeout: Duration) -> Result<Locked<'_>, Diagnostics> {
        self.create()?;
        match self.store.acquire_lock(&self.name, command, timeout) {
            Ok(o) => {
                let mut warnings = Diagnostics::new();
                if let Some(stale) = o.took_over {
                    warnings.push(Diagnostic::warning("Took over a stale state lock", format!("The lock was held by {stale}, but that holder is gone (its process no longer exists on this host, or its session with the state database has ended). Its run was interrupted; anything it left in flight is reconciled now.")));
                }
                Ok(Locked {
                    ws: self,
                    id: o.held.id,
                    command: command.to_string(),
                    warnings,
                })
            }
            Err(StateError::Locked(holder)) => Err(Diagnostic::error(
                "Error acquiring the state lock",
                format!("The state of workspace {:?} is locked by {holder}.\n\nTerrane waited {} for it. Wait for that run to finish, or pass a longer -lock-timeout. If that process is gone on another host, remove the lock with: terrane force-unlock {}", self.name, show_duration(timeout), holder.id),
            ).into()),
            Err(e) => Err(Diagnostic::error("Failed to lock state", e.to_string()).into()),
        }
    }

    /// The root module's outputs recorded by the last apply.
    pub fn outputs(&self) -> Result<Vec<OutputRecord>, Diagnostics> {
        self.store.outputs(&self.name).map_err(read_err)
    }

    /// Every resource instance in state, in address order.
    pub fn instances(&self) -> Result<Vec<StateInstance>, Diagnostics> {
        let recs = self.store.resources(&self.name).map_err(read_err)?;
        recs.iter()
            .map(|r| StateInstance::from_record(r).map_err(Diagnostics::from))
            .collect()
    }

    /// The workspace's state with its lineage and serial, as [`crate::tfstate`] writes it.
    pub fn tfstate(&self) -> Result<crate::tfstate::TfState, Diagnostics> {
        let meta = self.store.workspace(&self.name).map_err(read_err)?;
        Ok(crate::tfstate::TfState {
            lineage: meta.lineage,
            serial: meta.serial,
            resources: self.store.resources(&self.name).map_err(read_err)?,
            outputs: self.store.outputs(&self.name).map_err(read_err)?,
        })
    }

    /// Past runs of this workspace, oldest first.
    pub fn history(&self) -> Result<Vec<RunRecord>, Diagnostics> {
        self.store.runs(&self.name).map_err(read_err)
    }

    /// Who holds the lock, if anyone.
    pub fn lock_holder(&self) -> Result<Option<LockInfo>, Diagnostics> {
        self.store.lock_holder(&self.name).map_err(read_err)
    }

    /// Removes the lock `id` whatever its holder is doing.
    pub fn force_unlock(&self, id: &str) -> Result<LockInfo, Diagnostics> {
        self.store
            .force_unlock(&self.name, id)
            .map_err(|e| Diagnostic::error("Failed to unlock state", e.to_string()).into())
    }

    /// The names of the workspaces in this database.
    pub fn list(&self) -> Result<Vec<String>, Diagnostics> {
        Ok(self
            .store
            .list_workspaces()
            .map_err(read_err)?
            .into_iter()
            .map(|w| w.name)
            .collect())
    }

    /// Whether workspace `name` exists in this database.
    pub fn exists(&self, name: &str) -> Result<bool, Diagnostics> {
        Ok(self.store.workspace_meta(name).map_err(read_err)?.is_some())
    }

    /// Creates workspace `name` (an error if it exists).
    pub fn create_other(&self, name: &str) -> Result<(), Diagnostics> {
        if self.exists(name)? {
            return Err(Diagnostic::error(
                "Workspace already exists",
                format!("Workspace {name:?} already exists."),
            )
            .into());
        }
        self.store.workspace(name).map(|_| ()).map_err(write_err)
    }

    /// Deletes workspace `name`, which must not be this one. One that still manages objects is
    /// deleted only with `force` (its objects are forgotten, not destroyed).
    pub fn delete_other(&self, name: &str, force: bool) -> Result<(), Diagnostics> {
        if name == self.name {
            return Err(Diagnostic::error(
                "Workspace is in use",
                format!("Workspace {name:?} is the current workspace; select another one first."),
            )
            .into());
        }
        let n = self.store.resources(name).map_err(read_err)?.len();
        if n > 0 && !force {
            return Err(Diagnostic::error("Workspace is not empty", format!("Workspace {name:?} still manages {n} resource instance(s). Destroy them first, or pass -force to forget them.")).into());
        }
        self.store.delete_workspace(name).map_err(write_err)
    }
}

/// One workspace copied by [`Workspace::migrate_to`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    pub workspace: String,
    pub resources: usize,
    pub outputs: usize,
}

impl Workspace {
    /// Whether any workspace of this backend manages an object.
    pub fn has_objects(&self) -> Result<bool, Diagnostics> {
        for w in self.store.list_workspaces().map_err(read_err)? {
            if !self.store.resources(&w.name).map_err(read_err)?.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Copies every workspace of this backend (resources, outputs) into `to`'s backend
    /// (`terrane init -migrate-state`), each under both backends' locks and in one transaction
    /// of the target. A workspace that already manages objects in the target is refused before
    /// anything is copied; the source is left as it was.
    pub fn migrate_to(&self, to: &Workspace) -> Result<Vec<Migrated>, Diagnostics> {
        let names: Vec<String> = self
            .store
            .list_workspaces()
            .map_err(read_err)?
            .into_iter()
            .map(|w| w.name)
            .collect();
        for n in &names {
            let there = to.store.resources(n).map_err(read_err)?.len();
            if there > 0 {
                return Err(Diagnostic::error(
                    "Workspace already has state in the new backend",
                    format!("Workspace {n:?} already manages {there} resource instance(s) in {}; nothing was copied. Use -reconfigure to use that state as it is.", to.location()),
                )
                .into());
            }
        }
        let mut out = Vec::new();
        for n in names {
            let lock = |w: &Workspace| {
                w.store
                    .acquire_lock(&n, "terrane init -migrate-state", Duration::from_secs(10))
                    .map_err(|e| {
                        Diagnostics::from(Diagnostic::error("Failed to lock state", e.to_string()))
                    })
            };
            let a = lock(self)?;
            let b = match lock(to) {
                Ok(b) => b,
                Err(e) => {
                    let _ = self.store.release_lock(&n, &a.held.id);
                    return Err(e);
                }
            };
            let copied = (|| {
                to.store.workspace(&n).map_err(write_err)?;
                let resources = self.store.resources(&n).map_err(read_err)?;
                let outputs = self.store.outputs(&n).map_err(read_err)?;
                let steps: Vec<terrane_state::StepWrite> = resources
                    .iter()
                    .cloned()
                    .map(terrane_state::StepWrite::Put)
                    .collect();
                to.store.apply_steps(&n, &steps).map_err(write_err)?;
                to.store.set_outputs(&n, &outputs).map_err(write_err)?;
                Ok::<_, Diagnostics>(Migrated {
                    workspace: n.clone(),
                    resources: resources.len(),
                    outputs: outputs.len(),
                })
            })();
            let _ = to.store.release_lock(&n, &b.held.id);
            let _ = self.store.release_lock(&n, &a.held.id);
            out.push(copied?);
        }
        Ok(out)
    }
}

/// The workspace, locked. Dropping it releases the lock, whatever happened.
pub struct Locked<'w> {
    ws: &'w Workspace,
    id: String,
    command: String,
    warnings: Diagnostics,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let _ = self.ws.store.release_lock(&self.ws.name, &self.id);
    }
}

impl<'w> Locked<'w> {
    /// Warnings from taking the lock (a stale lock taken over).
    pub fn warnings(&self) -> &Diagnostics {
        &self.warnings
    }

    pub fn workspace(&self) -> &'w Workspace {
        self.ws
    }

    /// A run of `config`: providers instantiated, state loaded.
    pub fn run(
        &self,
        config: Config,
        registry: ProviderRegistry,
        opts: RunOptions,
    ) -> Result<Run<'_, 'w>, Diagnostics> {
        let options = SessionOptions {
            workspace: self.ws.name.clone(),
            inputs: opts.inputs,
            validate_only: false,
            parallelism: opts.parallelism.max(1),
            default_tags: self.ws.default_tags.clone(),
        };
        // The graph is built on another thread while this one reads the state: at 100,000
        // resources each takes about a tenth of a plan.
        let (session, state) = std::thread::scope(|s| {
            let built = s.spawn(move || Session::new(config, registry, options));
            let state = crate::session::read_state(&*self.ws.store, &self.ws.name);
            let session = built
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (session, state)
        });
        let mut session = session?;
        session.set_state(state?);
        Ok(Run {
            locked: self,
            session,
        })
    }

    /// A run that applies a saved plan: refused if the plan is for another workspace, or the
    /// configuration or the state changed since it was made.
    pub fn saved(
        &self,
        plan: &Plan,
        config: Config,
        registry: ProviderRegistry,
        parallelism: usize,
    ) -> Result<Run<'_, 'w>, Diagnostics> {
        self.ws.accepts(plan)?;
        let meta = self.ws.store.workspace(&self.ws.name).map_err(read_err)?;
        check_saved_plan(plan, &config.fingerprint(), &meta.lineage, meta.serial)?;
        self.run(
            config,
            registry,
            RunOptions {
                inputs: plan.variables.clone(),
                parallelism,
            },
        )
    }

    /// Removes from state every instance matching one of `addresses` (objects are forgotten,
    /// not destroyed). Each address must match something.
    pub fn state_rm(&self, addresses: &[String]) -> Result<Vec<InstanceAddr>, Diagnostics> {
        let insts = self.ws.instances()?;
        let mut removed = Vec::new();
        for a in addresses {
            let matched: Vec<_> = insts
                .iter()
                .filter(|s| target_matches(a, &s.addr))
                .collect();
            if matched.is_empty() {
                return Err(Diagnostic::error(
                    "Invalid target address",
                    format!("No matching objects found for {a:?}."),
                )
                .into());
            }
            for s in matched {
                self.ws
                    .store
                    .delete_resource(&self.ws.name, &s.addr.to_string())
                    .map_err(write_err)?;
                removed.push(s.addr.clone());
            }
        }
        Ok(removed)
    }

    /// Takes a Terraform state's objects and outputs as this workspace's state
    /// (`state import-tfstate`): one batch of writes, so the state is the file's or as it was.
    /// Refused while the workspace holds resources, unless `replace`, which first forgets them
    /// (the objects are not touched). Returns how many instances were imported.
    pub fn import_tfstate(
        &self,
        state: &crate::tfstate::TfState,
        replace: bool,
    ) -> Result<usize, Diagnostics> {
        let held = self.ws.store.resources(&self.ws.name).map_err(read_err)?;
        if !held.is_empty() && !replace {
            return Err(Diagnostic::error(
                "Workspace state is not empty",
                format!(
                    "Workspace {:?} already holds {} resource instance(s). Importing would mix two states; use another workspace, or -replace to forget what it holds (the real objects are not touched).",
                    self.ws.name,
                    held.len()
                ),
            )
            .into());
        }
        for r in &state.resources {
            StateInstance::from_record(r).map_err(Diagnostics::from)?;
        }
        let mut steps: Vec<StepWrite> = held
            .iter()
            .filter(|h| !state.resources.iter().any(|r| r.address == h.address))
            .map(|h| StepWrite::Delete(h.address.clone()))
            .collect();
        steps.extend(state.resources.iter().cloned().map(StepWrite::Put));
        self.ws
            .store
            .apply_steps(&self.ws.name, &steps)
            .map_err(write_err)?;
        self.ws
            .store
            .set_outputs(&self.ws.name, &state.outputs)
            .map_err(write_err)?;
        Ok(state.resources.len())
    }

    /// `state push`: `state` (as `state pull` wrote it, maybe edited) becomes this
    /// workspace's state. As Terraform's, refused when it is of another lineage or older than
    /// what the workspace holds (`force` pushes anyway); an empty workspace takes any.
    pub fn push_tfstate(
        &self,
        state: &crate::tfstate::TfState,
        force: bool,
    ) -> Result<usize, Diagnostics> {
        let meta = self.ws.store.workspace(&self.ws.name).map_err(read_err)?;
        let held = self.ws.store.resources(&self.ws.name).map_err(read_err)?;
        if !force && !held.is_empty() {
            if state.lineage != meta.lineage {
                return Err(Diagnostic::error(
                    "Failed to write state",
                    format!("The state file has lineage {:?}, but workspace {:?} has lineage {:?}: it is another state. Use -force to replace this one with it anyway.", state.lineage, self.ws.name, meta.lineage),
                )
                .into());
            }
            if state.serial < meta.serial {
                return Err(Diagnostic::error(
                    "Failed to write state",
                    format!("The state file has serial {}, older than the workspace's {}: something was recorded since it was pulled. Pull again, or use -force to write it anyway.", state.serial, meta.serial),
                )
                .into());
            }
        }
        self.import_tfstate(state, true)
    }

    /// Marks the managed instance at `addr` tainted (or, with `tainted` false, no longer
    /// tainted), as `terraform taint` / `untaint` do: the next plan replaces a tainted object.
    /// `Ok(false)`: the instance is not in state and `allow_missing` let that pass.
    pub fn set_tainted(
        &self,
        addr: &InstanceAddr,
        tainted: bool,
        allow_missing: bool,
    ) -> Result<bool, Diagnostics> {
        if addr.resource.mode == terrane_core::Mode::Data {
            return Err(Diagnostic::error(
                if tainted {
                    "Cannot taint a data resource"
                } else {
                    "Cannot untaint a data resource"
                },
                format!(
                    "{addr} is a data resource: data resources are read again on every plan, so they are never tainted."
                ),
            )
            .into());
        }
        let address = addr.to_string();
        let rec = self
            .ws
            .store
            .resource(&self.ws.name, &address)
            .map_err(|e| {
                Diagnostics::from(Diagnostic::error("Failed to read state", e.to_string()))
            })?;
        let Some(mut rec) = rec else {
            if allow_missing {
                return Ok(false);
            }
            let verb = if tainted { "tainted" } else { "untainted" };
            return Err(Diagnostic::error(
                "No such resource instance",
                format!("There is no resource instance in the state with the address {address}. If the resource configuration has just been added, you must run \"terrane apply\" once to create the corresponding instance(s) before they can be {verb}."),
            )
            .into());
        };
        if !tainted && !rec.tainted {
            return Err(Diagnostic::error(
                "Resource instance is not tainted",
                format!("Resource instance {address} is not currently tainted, and so it cannot be untainted."),
            )
            .into());
        }
        rec.tainted = tainted;
        self.ws
            .store
            .put_resource(&self.ws.name, &rec)
            .map_err(write_err)?;
        Ok(true)
    }

    /// Moves the instance at `src` to `dst` (same resource type; `dst` must be free).
    pub fn state_mv(&self, src: &InstanceAddr, dst: &InstanceAddr) -> Result<(), Diagnostics> {
        if src.resource.ty != dst.resource.ty {
            return Err(Diagnostic::error(
                "Invalid state move request",
                format!("Cannot move {src} to {dst}: the resource types differ."),
            )
            .into());
        }
        let moved = self
            .ws
            .store
            .move_resource(&self.ws.name, &src.to_string(), &dst.to_string())
            .map_err(write_err)?;
        if !moved {
            return Err(Diagnostic::error(
                "Invalid state move request",
                format!("{src} is not in state, or {dst} already exists."),
            )
            .into());
        }
        Ok(())
    }
}

/// One run of a configuration against the locked workspace.
pub struct Run<'l, 'w> {
    locked: &'l Locked<'w>,
    session: Session,
}

impl Run<'_, '_> {
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// A test run's aliased mocks and overrides, in place of the real providers
    /// ([`Session::use_doubles`]).
    pub fn use_doubles(
        &mut self,
        mocks: &crate::mock::Mocks,
        overrides: Vec<crate::mock::Override>,
    ) -> Result<(), Diagnostics> {
        self.session.use_doubles(mocks, overrides)
    }

    /// Plans (refreshing first unless `opts.refresh` is false).
    pub async fn plan(&mut self, opts: &PlanOptions) -> Result<Plan, Diagnostics> {
        self.session.plan(Some(&*self.locked.ws.store), opts).await
    }

    /// Configuration for the objects of the `import` blocks of `targets` (see
    /// [`Session::generate_import_config`]).
    pub async fn generate_import_config(
        &mut self,
        targets: &[InstanceAddr],
    ) -> Result<String, Diagnostics> {
        self.session.generate_import_config(targets).await
    }

    /// Plans without refreshing and keeps the values, then evaluates each expression of
    /// `exprs` with them (`terrane console`): a value and whether it is sensitive, or the
    /// errors, per expression.
    pub async fn console(
        &mut self,
        opts: &PlanOptions,
    ) -> Result<
        impl Fn(&str, &[(String, Value)]) -> Result<(Value, bool), Diagnostics> + '_,
        Diagnostics,
    > {
        self.session.keep_values();
        self.session
            .plan(Some(&*self.locked.ws.store), opts)
            .await?;
        let session = &self.session;
        Ok(move |text: &str, bindings: &[(String, Value)]| session.eval_text_with(text, bindings))
    }

    /// Applies `plan` and records the run in history. Events go to `sink` (a plan with no
    /// changes still records refreshed values and outputs, and reports nothing). `cancel`:
    /// see [`crate::events::CANCEL_GRACEFUL`] and [`crate::events::CANCEL_HARD`].
    pub async fn apply(
        &mut self,
        plan: &Plan,
        sink: Arc<dyn EventSink>,
        cancel: watch::Receiver<u8>,
    ) -> Result<Applied, Diagnostics> {
        let store = &*self.locked.ws.store;
        let ws = &self.locked.ws.name;
        let run_id = store
            .begin_run(ws, &self.locked.command)
            .map_err(write_err)?;
        let sink: Arc<dyn EventSink> = if plan.has_changes() {
            sink
        } else {
            Arc::new(NullSink)
        };
        let outcome = if plan.refresh_only {
            self.session.apply_refresh_only(plan, store)
        } else {
            self.session.apply(plan, store, run_id, sink, cancel).await
        };
        let result = if outcome.interrupted {
            RunResult::Interrupted
        } else if outcome.ok() {
            RunResult::Ok
        } else {
            RunResult::Failed
        };
        let counts = RunCounts {
            added: outcome.added as i64,
            changed: outcome.changed as i64,
            destroyed: outcome.destroyed as i64,
            failed: outcome.failed.len() as i64,
        };
        let _ = store.finish_run(run_id, result.as_str(), counts);
        let outputs = store.outputs(ws).unwrap_or_default();
        Ok(Applied {
            outcome,
            result,
            run_id,
            outputs,
        })
    }

    /// Imports the existing object `id` at `addr` and records the run in history.
    pub async fn import(
        &mut self,
        addr: &InstanceAddr,
        id: &str,
    ) -> Result<StateInstance, Diagnostics> {
        let store = &*self.locked.ws.store;
        let si = self.session.import(store, addr, id).await?;
        let run = store
            .begin_run(&self.locked.ws.name, &self.locked.command)
            .map_err(state_err)?;
        let _ = store.finish_run(run, RunResult::Ok.as_str(), RunCounts::default());
        Ok(si)
    }
}
