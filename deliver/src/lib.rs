//! `terrane deliver`: build, tag and push an image, then release it blue/green on ECS.
//!
//! The app runs as two ECS services (blue and green) behind one load balancer
//! (`modules/app-delivery`): the live listener forwards to one colour, the test listener to the
//! other. A release goes to the idle colour (`deploy`: a task definition revision pinned to the
//! image digest, a steady service, checks through the test listener), then `promote` moves live
//! traffic to it (at once, or canary / linear through weights), swaps the `IsProduction` tags
//! and watches the live colour through a bake time, rolling back by itself on a failed check or
//! an alarm. `rollback` returns to the previous release, which kept running.
//!
//! Everything is recorded in the workspace's state ([`record`]): the module reads the live
//! colour, weights and revisions from it (`data "terrane_release"`), so `terrane plan` shows no
//! drift after a release. Every command is safe to run again after an interruption, and a
//! promote or rollback cut short is recorded as in flight until a command finishes or reverts it.
//!
//! The cloud is behind [`terrane_core::delivery::Delivery`] (the AWS provider implements it), so
//! this crate has no cloud SDK.

pub mod build;
pub mod config;
pub mod objects;
pub mod oci;
pub mod record;
pub mod rollout;
pub mod status;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use terrane_core::delivery::Delivery;
use terrane_core::{Progress, ProgressReport};
use terrane_engine::workspace::Workspace;

pub use config::{Config, Strategy};
pub use objects::Objects;
pub use record::{Build, Colour, Current, Op, Records, Release, Status};

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    State(String),
    #[error("{0}")]
    Image(String),
    #[error("{0}")]
    Build(String),
    #[error("{0}")]
    Cloud(String),
    /// The request makes no sense in the recorded state (nothing to promote, ...).
    #[error("{0}")]
    Refused(String),
    /// A promote or rollback was cut short; the message says how to finish or revert it.
    #[error("{0}")]
    Interrupted(String),
    /// A check of the new release failed; it is not promoted.
    #[error("{0}")]
    CheckFailed(String),
    /// Promote stopped before the swap; `promote --approve` finishes it.
    #[error("{0}")]
    ApprovalRequired(String),
    /// The bake time saw a failure and the release was rolled back.
    #[error("{0}")]
    RolledBack(String),
    /// Ctrl-C: the command stopped at a safe point.
    #[error("{0}")]
    Stopped(String),
}

impl From<terrane_core::ProviderError> for DeliverError {
    fn from(e: terrane_core::ProviderError) -> Self {
        DeliverError::Cloud(e.message)
    }
}

/// One thing a command did or saw, for the caller to render (text, or a JSON line with `-json`).
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// `step`, `wait`, `check`, `output`, `warning`.
    pub kind: &'static str,
    pub message: String,
}

pub trait Sink: Send + Sync {
    fn event(&self, e: Event);
}

/// What every command works with.
pub struct Deliverer<'a> {
    pub ws: &'a Workspace,
    pub cloud: &'a dyn Delivery,
    pub config: &'a Config,
    pub objects: Objects,
    pub sink: &'a dyn Sink,
    /// Set by Ctrl-C: waits end at once, a change in flight is finished and recorded.
    pub stop: Arc<AtomicBool>,
    /// Recorded with every release (`GITHUB_ACTOR`, `GITLAB_USER_LOGIN`, `USER`).
    pub who: String,
    /// The working directory (where the build command runs).
    pub dir: std::path::PathBuf,
}

impl<'a> Deliverer<'a> {
    pub fn records(&self) -> Records<'_> {
        Records::new(self.ws, &self.config.app)
    }

    pub fn say(&self, kind: &'static str, message: impl Into<String>) {
        let message = message.into();
        tracing::info!(kind, "{message}");
        self.sink.event(Event { kind, message });
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps for `d`; false if Ctrl-C came meanwhile.
    pub async fn pause(&self, d: Duration) -> bool {
        let until = std::time::Instant::now() + d;
        loop {
            if self.stopped() {
                return false;
            }
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return true;
            }
            tokio::time::sleep(left.min(Duration::from_millis(100))).await;
        }
    }

    pub fn current(&self) -> Result<Current, DeliverError> {
        Ok(self.records().current()?.unwrap_or_default())
    }
}

/// Who runs the command, for the records: the CI's actor, or `user@host` as the state lock
/// names its holder.
pub fn who() -> String {
    ["TERRANE_DELIVER_WHO", "GITHUB_ACTOR", "GITLAB_USER_LOGIN"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| {
            format!(
                "{}@{}",
                terrane_state::current_user(),
                terrane_state::hostname()
            )
        })
}

pub fn now() -> i64 {
    terrane_engine::environments::now()
}

/// Health-check reports from a delivery command reach its sink.
pub(crate) struct Watch<'a> {
    sink: &'a dyn Sink,
    stop: Arc<AtomicBool>,
}

impl<'a> Watch<'a> {
    pub(crate) fn of(d: &'a Deliverer<'_>) -> Self {
        Watch {
            sink: d.sink,
            stop: d.stop.clone(),
        }
    }
}

impl Progress for Watch<'_> {
    fn report(&self, r: ProgressReport) {
        let (kind, message) = match r {
            ProgressReport::Waiting {
                check,
                attempt,
                last_status,
                ..
            } => (
                "wait",
                format!("{check}: attempt {attempt} failed ({last_status}); retrying"),
            ),
            ProgressReport::Output { line, .. } => ("output", line),
        };
        self.sink.event(Event { kind, message });
    }

    fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}
