//! The apply as a [`Visitor`] of the generic walker: what starting, finishing and skipping a
//! node of the apply graph means. Config nodes `0..n` evaluate and create or update their
//! instances; destroy nodes `n..` delete one object each.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use petgraph::graph::NodeIndex;
use terrane_core::{Diagnostic, Diagnostics, InstanceKey, Value};
use terrane_state::{Intent, StepWrite};

use super::job::{new_token, now, Job, Op, TaskDone};
use super::provision;
use super::{ApplyOutcome, Call, Ctx};
use crate::config::When;
use crate::events::Event;
use crate::graph::NodeKind;
use crate::plan::{Action, Plan};
use crate::session::{state_err, Session};
use crate::values::{Readers, Values};
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
    /// A resource's value is dropped once nothing will read it.
    pub readers: Readers,
    pub out: ApplyOutcome,
}

/// The plan changes apply-graph node `i` carries out: config nodes are `0..n`; destroy node
/// `n + k` deletes `plan.changes[destroy_nodes[k]]`.
pub(super) fn node_changes(
    i: usize,
    n: usize,
    destroy_nodes: &[usize],
    changes_of: &HashMap<usize, Vec<usize>>,
) -> Vec<usize> {
    if i >= n {
        vec![destroy_nodes[i - n]]
    } else {
        changes_of.get(&i).cloned().unwrap_or_default()
    }
}

/// A node failed to start; what went wrong is in the outcome's diagnostics.
pub(super) struct NodeFailed;

impl ApplyWalk<'_, '_> {
    /// Starts a config node. Returns the number of provider calls started (0: done already) and
    /// whether some instance failed already.
    pub(super) fn start_config_node(&mut self, id: usize) -> Result<(usize, bool), NodeFailed> {
        let ApplyWalk {
            session,
            ctx,
            plan,
            changes_of,
            values,
            inst_values,
            out,
            ..
        } = self;
        let (ctx, plan, this) = (*ctx, *plan, &mut **session);
        let change_ids = changes_of.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        let (addr, rc) = match &this.graph.nodes[id].kind {
            NodeKind::Resource { addr, config } => (addr.clone(), config.clone()),
            NodeKind::Provider { .. } => return Ok((0, false)),
            _ => {
                let d = this.eval_named(values, id);
                let err = d.has_errors();
                out.diags.extend(d);
                return if err { Err(NodeFailed) } else { Ok((0, false)) };
            }
        };
        let targeted_out = !plan.targets.is_empty() && change_ids.is_empty();
        let mut vals = BTreeMap::new();
        if targeted_out || change_ids.is_empty() {
            // Not in the plan (targeting, unchanged, or zero instances): state values stand.
            for a in this.prior_instances(&addr) {
                if let Some(si) = this.state.get(a) {
                    vals.insert(a.key.clone(), si.value.clone());
                }
            }
            inst_values.insert(id, vals);
            return Ok((0, false));
        }
        let pb = rc.parse();
        let expansion = match this.expand(values, &pb, &addr.module) {
            Ok(e) => e,
            Err(d) => {
                out.diags.push(d);
                return Err(NodeFailed);
            }
        };
        let provider_key = this.graph.provider_key(&addr, &rc);
        let provider = this
            .provider_at(&provider_key, &addr)
            .unwrap_or(&this.providers[&provider_key])
            .clone();
        let schema = match this.schema_for(&provider_key, addr.mode, &addr.ty) {
            Ok(s) => s.clone(),
            Err(d) => {
                out.diags.push(d);
                return Err(NodeFailed);
            }
        };
        let mut started = 0;
        let mut failed = false;
        for &ci in change_ids {
            let c = &plan.changes[ci];
            match c.action {
                Action::NoOp => {
                    let Some(v) = c
                        .prior
                        .clone()
                        .or_else(|| this.state.get(&c.addr).map(|s| s.value.clone()))
                    else {
                        continue;
                    };
                    if let Some(si) = this.state.get(&c.addr) {
                        if si.value != v {
                            // Refresh found drift: record what is real.
                            let mut si = si.clone();
                            si.value = v.clone();
                            ctx.steps.borrow_mut().push(StepWrite::Put(si.to_record()));
                        }
                    }
                    vals.insert(c.addr.key.clone(), v);
                    continue;
                }
                Action::Read if c.planned.as_ref().is_some_and(Value::is_known) => {
                    vals.insert(c.addr.key.clone(), c.planned.clone().unwrap_or(Value::Null));
                    continue;
                }
                _ => {}
            }
            let r = this.eval_instance(values, &rc, &pb, &c.addr, &expansion, &schema);
            if r.diags.has_errors() {
                out.diags.extend(r.diags);
                out.failed
                    .push((c.addr.to_string(), "configuration error".into()));
                failed = true;
                continue;
            }
            // Preconditions that were unknown at plan time are known now.
            let (failed_conds, _) =
                this.check_conditions(values, &rc, &c.addr, Some(&expansion), None);
            if !failed_conds.is_empty() {
                out.diags.extend(Diagnostics(failed_conds));
                out.failed
                    .push((c.addr.to_string(), "precondition failed".into()));
                failed = true;
                continue;
            }
            let config = r.value;
            if config.contains_unknown() {
                out.diags.push(
                    Diagnostic::error(
                        format!("{}: configuration still unknown during apply", c.addr),
                        "A value this resource depends on was not set by its provider after apply.",
                    )
                    .with_address(&c.addr),
                );
                out.failed
                    .push((c.addr.to_string(), "unknown configuration".into()));
                failed = true;
                continue;
            }
            let token = new_token();
            let (op, prior, planned) = match c.action {
                Action::Read => (Op::Read, None, None),
                Action::Create | Action::Replace => (Op::Write, None, c.planned.clone()),
                _ => (Op::Write, c.prior.clone(), c.planned.clone()),
            };
            let action = c.action;
            let provision = if matches!(action, Action::Create | Action::Replace) {
                provision::Provisioning::prepare(
                    &rc,
                    When::Create,
                    &c.addr.key,
                    Some(&expansion),
                    !c.sensitive.is_empty(),
                    &this.scope(values, &addr.module),
                )
                .map(Arc::new)
            } else {
                None
            };
            let job = Job {
                provider: provider.clone(),
                sink: ctx.sink.clone(),
                cancel: ctx.cancel.clone(),
                addr: c.addr.clone(),
                action,
                expected: c.planned.clone(),
                prior,
                config,
                token: token.clone(),
                provision,
            };
            let mut intent = None;
            // A call that leaves nothing outside this process needs no journal: lost, it is
            // simply made again.
            if !matches!(op, Op::Read) && !job.inline() {
                let body = crate::intent::IntentBody {
                    provider: Some(provider_key.clone()),
                    planned: planned.as_ref().map(Value::to_json).unwrap_or_default(),
                    sensitive: c.sensitive.iter().cloned().collect(),
                    deps: c.deps.clone(),
                };
                let op_name = if job.prior.is_none() {
                    "create"
                } else {
                    "update"
                };
                intent = Some(Intent {
                    address: c.addr.to_string(),
                    op: op_name.into(),
                    token: token.clone(),
                    run_id: ctx.run_id,
                    started_at: now(),
                    planned: body.to_json(),
                });
            }
            ctx.starting.borrow_mut().push(Call {
                intent,
                provider: provider_key.clone(),
                job,
                node: id,
                change: ci,
                op,
            });
            started += 1;
        }
        inst_values.insert(id, vals);
        if failed && started == 0 {
            return Err(NodeFailed);
        }
        Ok((started, failed))
    }

    pub(super) fn start_delete(&mut self, node: usize, ci: usize) -> Result<usize, NodeFailed> {
        let (ctx, plan, this, out) = (self.ctx, self.plan, &mut *self.session, &mut self.out);
        let c = &plan.changes[ci];
        let Some(prior) = c.prior.clone() else {
            return Ok(0);
        };
        let Some(provider) = this.provider_at(&c.provider, &c.addr.resource).cloned() else {
            out.diags.push(Diagnostic::error(
                "Provider configuration not present",
                format!("{} is needed to destroy {}.", c.provider, c.addr),
            ));
            return Err(NodeFailed);
        };
        let token = new_token();
        let intent = Intent {
            address: c.addr.to_string(),
            op: "delete".into(),
            token: token.clone(),
            run_id: ctx.run_id,
            started_at: now(),
            planned: serde_json::json!({}),
        };
        // Destroy-time provisioners come from the configuration (as in Terraform, an object
        // whose resource block is gone is destroyed without them).
        let provision = this.graph.resource_config(&c.addr.resource).and_then(|rc| {
            provision::Provisioning::prepare(
                rc,
                When::Destroy,
                &c.addr.key,
                None,
                !c.sensitive.is_empty(),
                &this.scope(&Values::default(), &c.addr.resource.module),
            )
            .map(Arc::new)
        });
        let job = Job {
            provider,
            sink: ctx.sink.clone(),
            cancel: ctx.cancel.clone(),
            addr: c.addr.clone(),
            action: Action::Delete,
            expected: None,
            prior: Some(prior),
            config: Value::Null,
            token,
            provision,
        };
        ctx.starting.borrow_mut().push(Call {
            intent: (!job.inline()).then_some(intent),
            provider: c.provider.clone(),
            job,
            node,
            change: ci,
            op: Op::Delete,
        });
        Ok(1)
    }

    /// The plan changes a node carries out.
    fn changes(&self, i: usize) -> Vec<usize> {
        node_changes(i, self.n, self.destroy_nodes, self.changes_of)
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
            self.start_delete(i, ci).map(|k| (k, false))
        } else {
            self.start_config_node(i)
        };
        match started {
            Err(NodeFailed) => Start::Failed,
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

    fn is_inline(&self, call: &Call) -> bool {
        call.job.inline()
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
        self.readers
            .release(&self.session.graph, i, &mut self.values);
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
