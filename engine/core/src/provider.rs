//! The one trait through which the engine talks to every provider (native, built-in or plugin).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::diag::Diagnostic;
use crate::discover::{DeletionRule, DiscoverFilter, DiscoveredObject};
use crate::schema::{AttrPath, ProviderSchema};
use crate::value::Value;

/// A provider failure. `message` is shown to the user after the resource address.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub message: String,
    /// Retrying the same call later may succeed (throttling, eventual consistency).
    pub retryable: bool,
    /// The object exists although the call failed (created, then a later step failed): it is
    /// recorded as tainted so that the next plan replaces it.
    pub partial_state: Option<Value>,
}

impl ProviderError {
    pub fn new(message: impl Into<String>) -> Self {
        ProviderError {
            message: message.into(),
            retryable: false,
            partial_state: None,
        }
    }
}

/// Plan a change for one resource instance.
#[derive(Debug, Clone)]
pub struct PlanRequest<'a> {
    pub type_name: &'a str,
    /// State after refresh; `None` when the instance does not exist yet.
    pub prior: Option<&'a Value>,
    /// The configuration, converted to the schema's types; may contain unknown values.
    pub config: &'a Value,
}

#[derive(Debug, Clone)]
pub struct PlanResponse {
    /// The new state as far as it is known before apply (unknown where only apply can tell).
    pub planned: Value,
    /// Attribute paths whose change cannot be made in place.
    pub requires_replace: Vec<AttrPath>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Apply a planned change. `planned == None` deletes; `prior == None` creates.
#[derive(Clone)]
pub struct ApplyRequest<'a> {
    pub type_name: &'a str,
    pub prior: Option<&'a Value>,
    pub planned: Option<&'a Value>,
    /// Configuration with every value known.
    pub config: &'a Value,
    /// Unique per attempted change and recorded in state before the call: a provider that can
    /// should use it as the API's idempotency token, or tag the new object with it, so that
    /// [`Provider::recover`] can find an object whose creation was interrupted.
    pub token: &'a str,
    /// Where a long call reports what it is waiting for; shown live, next to the address.
    pub progress: &'a dyn Progress,
}

impl std::fmt::Debug for ApplyRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyRequest")
            .field("type_name", &self.type_name)
            .field("prior", &self.prior)
            .field("planned", &self.planned)
            .field("config", &self.config)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// What a provider reports while a call runs.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressReport {
    /// A gate is still waiting: its check failed on this attempt and will run again.
    Waiting {
        /// Which check (`health check 1 (http GET http://...)`).
        check: String,
        attempt: u32,
        elapsed: std::time::Duration,
        /// What the last attempt observed.
        last_status: String,
    },
    /// A line a command wrote (`stream` is `stdout` or `stderr`).
    Output { stream: &'static str, line: String },
}

/// Receives [`ProgressReport`]s for one call. Implementations must not block.
pub trait Progress: Send + Sync {
    fn report(&self, r: ProgressReport);

    /// The user asked the run to stop (Ctrl-C). A call that only waits (a health gate) should
    /// give up at its next chance; a call that changes something should finish it.
    fn stop_requested(&self) -> bool {
        false
    }
}

/// Discards reports (tests, harnesses, calls nobody watches).
pub struct NoProgress;

impl Progress for NoProgress {
    fn report(&self, _r: ProgressReport) {}
}

#[async_trait]
pub trait Provider: Send + Sync {
    /// Schema of the provider and of all its resource and data types.
    fn schema(&self) -> &ProviderSchema;

    /// At most this many calls to this provider at once (in addition to `-parallelism`).
    fn max_concurrency(&self) -> Option<usize> {
        None
    }

    /// `plan`, `read` and `read_data` answer without waiting on anything (no I/O, no timers):
    /// an in-process provider. The engine then makes those calls inline while it walks
    /// instead of scheduling a task for each; a call that does wait is made again as a task.
    fn answers_in_process(&self) -> bool {
        false
    }

    /// `apply` (create, update, delete) answers without waiting too. The engine then makes
    /// those calls inline as well, many between two writes of state (each still recorded as
    /// an intent before it is made and as a result after), instead of one task each.
    fn applies_in_process(&self) -> bool {
        false
    }

    /// Called once per provider configuration before any other call.
    async fn configure(&self, _config: &Value) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Provider-specific validation of a resource's configuration.
    fn validate(&self, _type_name: &str, _config: &Value) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Plans a change. The default uses the schema's [`crate::ResourceSchema::default_plan`].
    async fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let schema = self.schema().resources.get(req.type_name).ok_or_else(|| {
            ProviderError::new(format!("unknown resource type {}", req.type_name))
        })?;
        let (planned, requires_replace) = schema.default_plan(req.prior, req.config);
        Ok(PlanResponse {
            planned,
            requires_replace,
            diagnostics: Vec::new(),
        })
    }

    /// Creates, updates or deletes. Returns the new state (`None` after a delete).
    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError>;

    /// Reads the current state of an object; `None` when it no longer exists.
    async fn read(&self, type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError>;

    /// How many objects of `type_name` one [`Provider::read_many`] call reads at most, where
    /// the API describes many ids in one request; `None` (the default): one `read` each.
    fn read_batch(&self, _type_name: &str) -> Option<usize> {
        None
    }

    /// Reads many objects of one type at once (at most [`Provider::read_batch`] of them), each
    /// as [`Provider::read`] would; the answers are in the order of `states`. The default reads
    /// one at a time.
    async fn read_many(
        &self,
        type_name: &str,
        states: &[&Value],
    ) -> Result<Vec<Option<Value>>, ProviderError> {
        let mut out = Vec::with_capacity(states.len());
        for s in states {
            out.push(self.read(type_name, s).await?);
        }
        Ok(out)
    }

    /// Imports an existing object by its id.
    async fn import(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        let _ = id;
        Err(ProviderError::new(format!(
            "{type_name} does not support import"
        )))
    }

    /// Reads a data source.
    async fn read_data(&self, type_name: &str, _config: &Value) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!(
            "unknown data source {type_name}"
        )))
    }

    /// Looks for an object whose creation with `token` was interrupted (the process died after
    /// the call was sent). `Ok(None)`: no such object exists, the create can simply run again.
    async fn recover(
        &self,
        _type_name: &str,
        _token: &str,
        _planned: &Value,
    ) -> Result<Option<Value>, ProviderError> {
        Ok(None)
    }

    /// Whether [`Provider::discover`] is implemented.
    fn discovers(&self) -> bool {
        false
    }

    /// Lists the objects that match `filter`, whether or not any state knows them (nuke,
    /// environment garbage collection). Objects the cloud made itself are reported with
    /// `is_default` set.
    async fn discover(
        &self,
        _filter: &DiscoverFilter,
    ) -> Result<Vec<DiscoveredObject>, ProviderError> {
        Err(ProviderError::new(
            "this provider cannot discover its objects",
        ))
    }

    /// Type-level deletion order, beside what discovered objects' references give (see
    /// [`crate::discover::DeletionGraph`]).
    fn deletion_rules(&self) -> Vec<DeletionRule> {
        Vec::new()
    }

    /// The account (or project) the provider's credentials act in, where it can tell: what a
    /// destructive command checks against the account the user pinned. `Ok(None)`: unknown.
    async fn account(&self) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }

    /// What this instance has done so far, where it counts: API calls made, and the times a
    /// delete was refused because something still depended on the object.
    fn usage(&self) -> Option<Usage> {
        None
    }

    /// The operations of a blue/green release (`terrane deliver`), where the provider has them.
    fn delivery(&self) -> Option<&dyn crate::delivery::Delivery> {
        None
    }
}

/// Counters a provider keeps of its own work (see [`Provider::usage`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Requests sent (each attempt of a retried call counts).
    pub api_calls: u64,
    /// Deletes the cloud refused because something still depended on the object.
    pub dependency_conflicts: u64,
}

/// Creates a fresh provider instance (one per `provider` block / alias).
pub type ProviderFactory = Arc<dyn Fn() -> Arc<dyn Provider> + Send + Sync>;

/// The providers available to a run, by local name (`aws`, `null`, `terraform`, ...).
#[derive(Clone, Default)]
pub struct ProviderRegistry {
    factories: BTreeMap<String, ProviderFactory>,
}

impl ProviderRegistry {
    pub fn new() -> Self {
        ProviderRegistry::default()
    }
    pub fn register(&mut self, name: &str, factory: ProviderFactory) {
        self.factories.insert(name.to_string(), factory);
    }
    pub fn get(&self, name: &str) -> Option<&ProviderFactory> {
        self.factories.get(name)
    }
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.factories.keys().map(String::as_str)
    }
}

impl std::fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.factories.keys()).finish()
    }
}
