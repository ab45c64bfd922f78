//! Events the engine emits while it works; the CLI renders them (progress lines, JSON).

use std::time::Duration;

use crate::plan::Action;

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A provider call for one instance started; `id` is the id of the object it acts on,
    /// when one exists already (an update or a delete).
    ApplyStart {
        addr: String,
        action: Action,
        id: Option<String>,
    },
    /// It finished; `id` is the object's id when it has one.
    ApplyDone {
        addr: String,
        action: Action,
        elapsed: Duration,
        id: Option<String>,
    },
    ApplyFailed {
        addr: String,
        action: Action,
        elapsed: Duration,
        error: String,
    },
    /// Not started because something it depends on failed (or the run was interrupted).
    Skipped {
        addr: String,
        action: Action,
        reason: String,
    },
    /// A call in flight reported progress: a health gate still waiting, a command's output.
    Progress {
        addr: String,
        report: terrane_core::ProgressReport,
    },
    /// The run is stopping after Ctrl-C.
    Interrupted { in_flight: usize },
}

/// Receives events. Implementations must be cheap and must not block.
pub trait EventSink: Send + Sync {
    fn event(&self, e: &Event);
}

/// Discards events.
pub struct NullSink;

impl EventSink for NullSink {
    fn event(&self, _e: &Event) {}
}

/// Records events in memory (tests assert orderings from these, not from sleeps).
#[derive(Default)]
pub struct RecordingSink {
    pub events: std::sync::Mutex<Vec<(std::time::Instant, Event)>>,
}

impl EventSink for RecordingSink {
    fn event(&self, e: &Event) {
        self.events
            .lock()
            .expect("event log lock")
            .push((std::time::Instant::now(), e.clone()));
    }
}

/// Cancellation levels sent through a `tokio::sync::watch` channel.
pub const CANCEL_NONE: u8 = 0;
/// Start nothing new; let in-flight calls finish and record them.
pub const CANCEL_GRACEFUL: u8 = 1;
/// Abandon in-flight calls; their intents stay in state for the next run to reconcile.
pub const CANCEL_HARD: u8 = 2;
