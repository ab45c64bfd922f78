//! One provider call of an apply, run as a task: wait for a slot, plan again with the now-known
//! configuration (it must agree with the saved plan), then create, update, delete or read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use terrane_core::{
    ApplyRequest, InstanceAddr, PlanRequest, Progress, ProgressReport, Provider, ProviderError,
    Value,
};

use super::provision::{self, Provisioning};
use crate::events::{Event, EventSink};
use crate::plan::Action;

pub(super) enum Op {
    /// Create or update one instance of a resource node.
    Write,
    /// Delete an object (orphan, destroy, or the old half of a replace).
    Delete,
    Read,
}

pub(super) struct TaskDone {
    pub node: usize,
    pub change: usize,
    pub op: Op,
    pub started: Instant,
    pub result: Result<Option<Value>, ProviderError>,
}

pub(super) struct Job {
    pub provider: Arc<dyn Provider>,
    pub sink: Arc<dyn EventSink>,
    pub cancel: tokio::sync::watch::Receiver<u8>,
    pub addr: InstanceAddr,
    pub action: Action,
    pub expected: Option<Value>,
    pub prior: Option<Value>,
    pub config: Value,
    pub token: String,
    /// Provisioners to run after the create (or before the delete) of this call.
    pub provision: Option<Arc<Provisioning>>,
}

impl Job {
    /// Runs the call; the walker starts it once a slot is free (-parallelism and the
    /// provider's own limit).
    pub(super) async fn run(self, node: usize, change: usize, op: Op) -> TaskDone {
        let started = Instant::now();
        let shown = if matches!(op, Op::Delete) {
            Action::Delete
        } else {
            self.action
        };
        let id = match shown {
            Action::Update | Action::Delete => self
                .prior
                .as_ref()
                .and_then(|p| p.get("id"))
                .and_then(|v| v.as_str())
                .map(String::from),
            _ => None,
        };
        self.sink.event(&Event::ApplyStart {
            addr: self.addr.to_string(),
            action: shown,
            id,
        });
        let ty = self.addr.resource.ty.clone();
        // Sensitive values in the configuration are masked by whoever writes the log.
        tracing::debug!(address = %self.addr, action = shown.as_str(), config = %self.config, "provider call");
        let progress = JobProgress {
            sink: self.sink.clone(),
            addr: self.addr.to_string(),
            cancel: self.cancel.clone(),
        };
        let result = match op {
            Op::Read => self.provider.read_data(&ty, &self.config).await.map(Some),
            Op::Delete => {
                let prior = self.prior.clone().unwrap_or(Value::Null);
                // Destroy-time provisioners run first; if one fails, the object stays.
                match self.provisioners(&prior, &progress).await {
                    Err(e) => Err(e),
                    Ok(()) => {
                        self.provider
                            .apply(ApplyRequest {
                                type_name: &ty,
                                prior: Some(&prior),
                                planned: None,
                                config: &Value::Null,
                                token: &self.token,
                                progress: &progress,
                            })
                            .await
                    }
                }
            }
            Op::Write => {
                // Plan again with the now-known configuration; it must agree with the saved plan.
                match self.provider.plan(PlanRequest { type_name: &ty, prior: self.prior.as_ref(), config: &self.config }).await {
                    Err(e) => Err(e),
                    Ok(resp) => match inconsistent(self.expected.as_ref(), &resp.planned) {
                        Some(attr) => Err(ProviderError::new(format!("Provider produced inconsistent final plan: when expanding the plan for {} to include new values learned so far during apply, attribute {attr:?} changed from its planned value. This is a bug in the provider.", self.addr))),
                        None => {
                            let created = self.provider
                                .apply(ApplyRequest { type_name: &ty, prior: self.prior.as_ref(), planned: Some(&resp.planned), config: &self.config, token: &self.token, progress: &progress })
                                .await;
                            match created {
                                // Creation-time provisioners: a failure leaves the new object tainted.
                                Ok(Some(v)) if self.prior.is_none() => match self.provisioners(&v, &progress).await {
                                    Ok(()) => Ok(Some(v)),
                                    Err(mut e) => {
                                        e.partial_state = Some(v);
                                        Err(e)
                                    }
                                },
                                other => other,
                            }
                        }
                    },
                }
            }
        };
        TaskDone {
            node,
            change,
            op,
            started,
            result,
        }
    }
}

impl Job {
    /// The call answers without waiting: an in-process provider and no provisioners to run.
    pub(super) fn inline(&self) -> bool {
        self.provision.is_none() && self.provider.applies_in_process()
    }

    /// Runs this job's provisioners with `self` = `this`.
    async fn provisioners(
        &self,
        this: &Value,
        progress: &JobProgress,
    ) -> Result<(), ProviderError> {
        let Some(p) = &self.provision else {
            return Ok(());
        };
        let cmds = p.commands(this).map_err(ProviderError::new)?;
        provision::run(&cmds, progress)
            .await
            .map_err(ProviderError::new)
    }
}

/// Passes a call's progress reports on as events for its address.
struct JobProgress {
    sink: Arc<dyn EventSink>,
    addr: String,
    cancel: tokio::sync::watch::Receiver<u8>,
}

impl Progress for JobProgress {
    fn stop_requested(&self) -> bool {
        *self.cancel.borrow() != crate::events::CANCEL_NONE
    }

    fn report(&self, report: ProgressReport) {
        self.sink.event(&Event::Progress {
            addr: self.addr.clone(),
            report,
        });
    }
}

/// The first top-level attribute whose known planned value differs from the final plan.
fn inconsistent(expected: Option<&Value>, fin: &Value) -> Option<String> {
    let exp = expected?.as_map()?;
    for (k, v) in exp {
        if v.is_known() && fin.get(k).is_some_and(|f| f != v) {
            return Some(k.clone());
        }
    }
    None
}

pub(super) fn new_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut b);
    format!("tr-{}", hex::encode(b))
}

pub(super) fn now() -> String {
    terrane_state::format_rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs() as i64,
    )
}
