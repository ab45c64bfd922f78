//! The Terrane engine: configuration loading, expression evaluation, the dependency graph,
//! planning and applying. It never depends on a concrete provider: the caller hands it a
//! [`terrane_core::ProviderRegistry`]. It never prints: it returns plans and diagnostics and emits
//! [`events::Event`]s; rendering lives in [`render`] (to strings) and in the CLI.

pub mod apply;
pub mod conditions;
pub mod config;
pub mod config_json;
mod console;
pub mod environments;
pub mod eval;
pub mod events;
pub mod expand;
pub mod fmt;
pub mod graph;
mod import;
pub mod intent;
pub mod mock;
pub mod plan;
pub mod plan_json;
pub mod planner;
mod reconcile;
pub mod refs;
pub mod render;
pub mod session;
pub mod source;
pub mod testfile;
pub mod tfstate;
pub mod values;
pub mod walk;
pub mod workspace;

pub use apply::{check_saved_plan, ApplyOutcome};
pub use config::load_config;
pub use events::{Event, EventSink};
pub use plan::{Action, Plan, ResourceChange};
pub use planner::PlanOptions;
pub use session::{Session, SessionOptions};
pub use workspace::{Applied, Locked, Run, RunOptions, RunResult, Workspace};
