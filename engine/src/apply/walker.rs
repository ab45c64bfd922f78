//! The apply as a [`Visitor`] of the generic walker: what starting, finishing and skipping a
//! node of the apply graph means. Config nodes `0..n` evaluate and create or update their
//! instances; destroy nodes `n..` delete one object each.

use std::collections::{BTreeMap, HashMap, HashSet};

use petgraph::graph::NodeIndex;
use terrane_core::{Diagnostic, InstanceKey, Value};
use terrane_state::Intent;

use super::job::TaskDone;
use super::{ApplyOutcome, Call, Ctx};
use crate::events::Event;
use crate::plan::{Action, Plan};
use crate::session::{state_err, Session};
use crate::values::Values;
use crate::walk::{Start, TaskFuture, Visitor};

pub(super) struct ApplyWalk<'a, 's> {
    pub session: &'a mut Session,
    pub ctx: &'a Ctx<'s>,
    pub plan: &'a Plan,
    /// Config nodes are `0..n`; destroy node `n + k` deletes `plan.changes[destroy_nodes[k]]`.
    pub n: usize,
    pub destroy_nodes: &'a [usize],
    pub changes_of: &'a HashMap<usize, Vec<usize>>,
    pub values: Values,
    pub inst_values: HashMap<usize, BTreeMap<InstanceKey, Value>>,
    /// Config nodes that made provider calls (their postconditions are checked after them).
    pub called: Vec<bool>,
    /// Addresses already reported as skipped (each once).
    pub skipped: HashSet<String>,
    pub out: ApplyOutcome,
}

impl ApplyWalk<'_, '_> {
    /// The plan changes a node carries out.
    fn changes(&self, i: usize) -> Vec<usize> {
        if i >= self.n {
            vec![self.destroy_nodes[i - self.n]]
        } else {
            self.changes_of.get(&i).cloned().unwrap_or_default()
        }
    }
}

impl Visitor for ApplyWalk<'_, '_> {
    type Task = Call;
    type Output = TaskDone;

    fn start(&mut self, node: NodeIndex) -> Start<Call> {
        let i = node.index();
        // A destroy plan runs only its destroy nodes.
        if self.plan.destroy && i < self.n {
            return Start::Done;
        }
        let started = if i >= self.n {
            let ci = self.destroy_nodes[i - self.n];
            self.session
                .start_delete(self.ctx, self.plan, i, ci, &mut self.out)
                .map(|k| (k, false))
        } else {
            self.session.start_config_node(
                self.ctx,
                self.plan,
                i,
                self.changes_of.get(&i).map(Vec::as_slice).unwrap_or(&[]),
                &mut self.values,
                &mut self.inst_values,
                &mut self.out,
            )
        };
        match started {
            Err(()) => Start::Failed,
            Ok((0, false)) => Start::Done,
            Ok((_, failed)) => {
                if i < self.n {
                    self.called[i] = true;
                }
                let calls = std::mem::take(&mut *self.ctx.starting.borrow_mut());
                Start::Tasks {
                    tasks: calls
                        .into_iter()
                        .map(|c| (Some(c.provider.clone()), c))
                        .collect(),
                    failed,
                }
            }
        }
    }

    /// The intents of every call of the round are one transaction, written before any starts.
    fn launch(&mut self, round: Vec<(NodeIndex, Call)>) -> Vec<Option<TaskFuture<TaskDone>>> {
        let intents: Vec<Intent> = round.iter().filter_map(|(_, c)| c.intent.clone()).collect();
        if let Err(e) = self.ctx.store.record_intents(&self.ctx.ws, &intents) {
            // Nothing is called without its intent on record.
            self.out.diags.extend(state_err(e));
            for (_, c) in &round {
                self.out
                    .failed
                    .push((c.job.addr.to_string(), "could not record intent".into()));
            }
            return round.iter().map(|_| None).collect();
        }
        round
            .into_iter()
            .map(|(_, c)| Some(Box::pin(c.job.run(c.node, c.change, c.op)) as TaskFuture<TaskDone>))
            .collect()
    }

    fn finished(&mut self, _node: NodeIndex, done: TaskDone) -> bool {
        self.session.record_result(
            self.ctx,
            self.plan,
            done,
            &mut self.inst_values,
            &mut self.out,
        )
    }

    fn lost(&mut self, _node: NodeIndex, message: String) {
        self.out.diags.push(Diagnostic::error(
            "Internal error",
            format!("a provider task panicked: {message}"),
        ));
    }

    /// Durable first, then reported, then dependents may start.
    fn settle(&mut self) {
        self.session.flush_steps(self.ctx, &mut self.out);
    }

    fn complete(&mut self, node: NodeIndex) -> bool {
        let i = node.index();
        if i >= self.n || self.plan.destroy {
            return true;
        }
        if self.called[i]
            && !self
                .session
                .postconditions_hold(i, &self.values, &self.inst_values, &mut self.out)
        {
            return false;
        }
        self.session.finish_resource_node(
            i,
            &mut self.values,
            &mut self.inst_values,
            &mut self.out,
        );
        true
    }

    fn skipped(&mut self, node: NodeIndex) {
        for ci in self.changes(node.index()) {
            let c = &self.plan.changes[ci];
            if matches!(c.action, Action::NoOp | Action::Read) {
                continue;
            }
            let a = c.addr.to_string();
            if self.skipped.insert(a.clone()) {
                self.ctx.sink.event(&Event::Skipped {
                    addr: a.clone(),
                    action: c.action,
                    reason: "a resource it depends on failed".into(),
                });
                self.out.skipped.push(a);
            }
        }
    }

    fn interrupted(&mut self, in_flight: usize) {
        self.ctx.sink.event(&Event::Interrupted { in_flight });
    }
}
