//! Recording: the intents of calls before they start (one transaction per scheduling round),
//! each finished step as it completes (one transaction per batch), and the events that report
//! them once they are durable.

use std::collections::{BTreeMap, HashMap};

use terrane_core::{Diagnostic, InstanceKey, Value};
use terrane_state::StepWrite;

use super::job::{Op, TaskDone};
use super::{ApplyOutcome, Ctx};
use crate::events::Event;
use crate::plan::{Action, Plan};
use crate::session::{state_err, Session, StateInstance};

impl Session {
    /// Writes a finished step to state. Returns false if it failed.
    pub(super) fn record_result(
        &mut self,
        ctx: &Ctx<'_>,
        plan: &Plan,
        done: TaskDone,
        inst_values: &mut HashMap<usize, BTreeMap<InstanceKey, Value>>,
        out: &mut ApplyOutcome,
    ) -> bool {
        let c = &plan.changes[done.change];
        let addr_s = c.addr.to_string();
        let elapsed = done.started.elapsed();
        let shown_action = match done.op {
            Op::Delete if c.action == Action::Replace => Action::Delete,
            _ => c.action,
        };
        match done.result {
            Ok(new) => {
                let write = match done.op {
                    Op::Read => {
                        inst_values
                            .entry(done.node)
                            .or_default()
                            .insert(c.addr.key.clone(), new.clone().unwrap_or(Value::Null));
                        ctx.events.borrow_mut().push(Event::ApplyDone {
                            addr: addr_s,
                            action: Action::Read,
                            elapsed,
                            id: None,
                        });
                        return true;
                    }
                    Op::Delete => {
                        out.destroyed += 1;
                        // The old half of a replace: the new object may already be recorded.
                        if c.action == Action::Replace && c.create_before_destroy {
                            StepWrite::ClearIntent(addr_s.clone())
                        } else {
                            self.state.remove(&c.addr);
                            StepWrite::Delete(addr_s.clone())
                        }
                    }
                    Op::Write => {
                        match c.action {
                            Action::Create | Action::Replace => out.added += 1,
                            _ => out.changed += 1,
                        }
                        let v = new.unwrap_or(Value::Null);
                        let mut sensitive = c.sensitive.clone();
                        StateInstance::derive_sensitive(&v, &mut sensitive);
                        inst_values
                            .entry(done.node)
                            .or_default()
                            .insert(c.addr.key.clone(), v.clone());
                        let si = StateInstance {
                            addr: c.addr.clone(),
                            provider: c.provider.clone(),
                            value: v,
                            sensitive,
                            deps: c.deps.clone(),
                            tainted: false,
                        };
                        let w = StepWrite::Put(si.to_record());
                        self.state.insert(c.addr.clone(), si);
                        w
                    }
                };
                ctx.steps.borrow_mut().push(write);
                let id = inst_values
                    .get(&done.node)
                    .and_then(|m| m.get(&c.addr.key))
                    .and_then(|v| v.get("id"))
                    .and_then(|v| v.as_str())
                    .map(String::from);
                ctx.events.borrow_mut().push(Event::ApplyDone {
                    addr: addr_s,
                    action: shown_action,
                    elapsed,
                    id: if matches!(done.op, Op::Delete) {
                        None
                    } else {
                        id
                    },
                });
                true
            }
            Err(e) => {
                let write = match (&done.op, e.partial_state.clone()) {
                    (Op::Write, Some(partial)) => {
                        let si = StateInstance {
                            addr: c.addr.clone(),
                            provider: c.provider.clone(),
                            value: partial,
                            sensitive: c.sensitive.clone(),
                            deps: c.deps.clone(),
                            tainted: true,
                        };
                        let w = StepWrite::Put(si.to_record());
                        self.state.insert(c.addr.clone(), si);
                        w
                    }
                    _ => StepWrite::ClearIntent(addr_s.clone()),
                };
                ctx.steps.borrow_mut().push(write);
                ctx.events.borrow_mut().push(Event::ApplyFailed {
                    addr: addr_s.clone(),
                    action: shown_action,
                    elapsed,
                    error: e.message.clone(),
                });
                let mut d = Diagnostic::error(
                    format!("{addr_s}: {} failed", shown_action.as_str()),
                    e.message.clone(),
                )
                .with_address(&c.addr);
                // Point at the resource block when it is still in the configuration.
                if let Some(rc) = self.graph.resource_config(&c.addr.resource) {
                    d = d.with_range(Some(rc.range()));
                }
                out.diags.push(d);
                out.failed.push((addr_s, e.message));
                false
            }
        }
    }

    /// Records the steps finished since the last flush in one transaction, then reports them.
    pub(super) fn flush_steps(&self, ctx: &Ctx<'_>, out: &mut ApplyOutcome) {
        let steps = std::mem::take(&mut *ctx.steps.borrow_mut());
        if let Err(e) = ctx.store.apply_steps(&ctx.ws, &steps) {
            out.diags.extend(state_err(e));
        }
        for e in std::mem::take(&mut *ctx.events.borrow_mut()) {
            ctx.sink.event(&e);
        }
    }
}
