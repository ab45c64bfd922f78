//! Applying a plan: a parallel walk of the apply graph. Creates and updates follow dependencies;
//! deletions run dependents first. Every finished step is written to state at once; before a
//! mutating call, an intent is recorded so that a killed run can be reconciled.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use terrane_core::{Diagnostic, Diagnostics, InstanceKey, Value};
use terrane_state::{Intent, OutputRecord, StateStore, StepWrite};
use tokio::sync::watch;

use crate::events::{Event, EventSink};
use crate::walk::{walk, Order, Status};

mod job;
mod order;
mod provision;
mod record;
mod saved;
mod walker;
use crate::graph::{NodeKey, NodeKind};
use crate::plan::{Action, Plan};
use crate::session::{state_err, Session};
use crate::values::{assemble, ResourceValue, Values};
use job::{Job, Op};
use order::ApplyGraph;
pub use saved::check_saved_plan;
use walker::ApplyWalk;

#[derive(Debug, Default)]
pub struct ApplyOutcome {
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
    /// (address, error)
    pub failed: Vec<(String, String)>,
    pub skipped: Vec<String>,
    pub diags: Diagnostics,
    pub interrupted: bool,
}

impl ApplyOutcome {
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
            && !self.diags.has_errors()
            && !self.interrupted
            && self.skipped.is_empty()
    }
}

/// A call ready to start once its intent is on record.
struct Call {
    intent: Option<Intent>,
    /// The provider configuration that makes the call (its own concurrency limit applies).
    provider: String,
    job: Job,
    node: usize,
    change: usize,
    op: Op,
}

struct Ctx<'a> {
    store: &'a dyn StateStore,
    ws: String,
    run_id: i64,
    sink: Arc<dyn EventSink>,
    /// Calls to start once their intents are recorded (one transaction per scheduling round).
    starting: RefCell<Vec<Call>>,
    /// Finished steps to record (one transaction per batch of completions), and the events
    /// that report them once they are durable.
    steps: RefCell<Vec<StepWrite>>,
    events: RefCell<Vec<Event>>,
    /// Jobs that wait (health gates) watch this to stop waiting after Ctrl-C.
    cancel: watch::Receiver<u8>,
}

impl Session {
    /// Applies a refresh-only plan: what changed outside Terrane is recorded in state in one
    /// transaction (changed objects get their real values, deleted ones leave state); no
    /// provider is called.
    pub fn apply_refresh_only(&mut self, plan: &Plan, store: &dyn StateStore) -> ApplyOutcome {
        let mut out = ApplyOutcome::default();
        let mut steps = Vec::new();
        for d in &plan.drift {
            match &d.after {
                Some(v) => {
                    if let Some(si) = self.state.get_mut(&d.addr) {
                        si.value = v.clone();
                        steps.push(StepWrite::Put(si.to_record()));
                    }
                }
                None => {
                    self.state.remove(&d.addr);
                    steps.push(StepWrite::Delete(d.addr.to_string()));
                }
            }
        }
        if let Err(e) = store.apply_steps(&self.opts.workspace, &steps) {
            out.diags.extend(state_err(e));
        }
        // Outputs evaluated from the refreshed state (one that is not known keeps its value).
        let recs: Vec<OutputRecord> = plan
            .outputs
            .iter()
            .filter_map(|o| {
                let v = match &o.after {
                    Some(a) if a.is_known() => a,
                    Some(_) => o.before.as_ref()?,
                    None => return None,
                };
                Some(OutputRecord {
                    name: o.name.clone(),
                    value: v.to_json(),
                    sensitive: o.sensitive,
                })
            })
            .collect();
        if let Err(e) = store.set_outputs(&self.opts.workspace, &recs) {
            out.diags.extend(state_err(e));
        }
        out
    }

    /// Applies `plan`. State must be loaded and providers configured (plan did both, or call
    /// [`Session::configure_providers`] for a saved plan).
    pub async fn apply(
        &mut self,
        plan: &Plan,
        store: &dyn StateStore,
        run_id: i64,
        sink: Arc<dyn EventSink>,
        cancel: watch::Receiver<u8>,
    ) -> ApplyOutcome {
        let mut out = ApplyOutcome::default();
        if let Err(d) = self.configure_providers().await {
            out.diags = d;
            return out;
        }
        let ws = self.opts.workspace.clone();
        // Renames from `moved` blocks are recorded before any step, which may write at the
        // new addresses. One already made (by a run that stopped after it) is not made again.
        self.replay_moves(&plan.moves);
        for m in &plan.moves {
            if let Err(e) = store.move_resource(&ws, &m.from.to_string(), &m.to.to_string()) {
                out.diags.extend(state_err(e));
                return out;
            }
        }
        // Objects `import` blocks bring in enter it; a change planned for one acts on it.
        for i in &plan.imports {
            let si = &i.instance;
            if let Err(e) = store.put_resource(&ws, &si.to_record()) {
                out.diags.extend(state_err(e));
                return out;
            }
            self.state.insert(si.addr.clone(), si.clone());
        }
        // Objects `removed` blocks let go of leave the state, untouched.
        for a in &plan.forgets {
            self.state.remove(a);
            if let Err(e) = store.delete_resource(&ws, &a.to_string()) {
                out.diags.extend(state_err(e));
                return out;
            }
        }
        let limits = self.limits();
        let ctx = Ctx {
            store,
            ws: ws.clone(),
            run_id,
            sink,
            starting: RefCell::new(Vec::new()),
            steps: RefCell::new(Vec::new()),
            events: RefCell::new(Vec::new()),
            cancel: cancel.clone(),
        };

        // ---- The apply graph: config nodes 0..n, then one destroy node per deletion.
        let n = self.graph.nodes.len();
        let ApplyGraph {
            deps,
            destroy_nodes,
            changes_of,
        } = self.apply_graph(plan);
        let total = deps.len();
        let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(total, total);
        for _ in 0..total {
            graph.add_node(());
        }
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                graph.add_edge(NodeIndex::new(d), NodeIndex::new(i), ());
            }
        }
        let readers = crate::values::Readers::new(&self.graph);
        let mut w = ApplyWalk {
            session: self,
            ctx: &ctx,
            plan,
            n,
            destroy_nodes: &destroy_nodes,
            changes_of: &changes_of,
            values: Values::default(),
            inst_values: HashMap::new(),
            called: vec![false; n],
            skipped: HashSet::new(),
            readers,
            out,
        };
        let walked = walk(&graph, Order::Forward, &limits, &mut w, cancel).await;
        let ApplyWalk { values, out: o, .. } = w;
        out = o;
        self.flush_steps(&ctx, &mut out);
        out.interrupted |= walked.interrupted;
        let mut skipped: HashSet<String> = out.skipped.iter().cloned().collect();
        // Calls that never got a slot (stopped first) were not started; nothing is on record.
        for (_, call) in walked.unstarted {
            let a = call.job.addr.to_string();
            if skipped.insert(a.clone()) {
                out.skipped.push(a);
            }
        }
        let status = walked.status;
        // Everything not finished was not started.
        if status.contains(&Status::Waiting)
            && !out.interrupted
            && out.failed.is_empty()
            && !out.diags.has_errors()
        {
            let name = |i: usize| {
                if i >= n {
                    format!("destroy {}", plan.changes[destroy_nodes[i - n]].addr)
                } else {
                    self.graph.nodes[i].key.to_string()
                }
            };
            let stuck: Vec<String> = (0..total)
                .filter(|&i| status[i] == Status::Waiting)
                .take(5)
                .map(|i| {
                    format!(
                        "{} (waits for {})",
                        name(i),
                        deps[i]
                            .iter()
                            .filter(|&&d| status[d] != Status::Done)
                            .map(|&d| name(d))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect();
            out.diags.push(Diagnostic::error("Apply could not finish", format!("Some steps wait on each other in a cycle (the deletion order recorded in state conflicts with the configuration): {}.", stuck.join("; "))));
        }
        for (i, st) in status.iter().enumerate() {
            if *st == Status::Waiting {
                for ci in walker::node_changes(i, n, &destroy_nodes, &changes_of) {
                    let c = &plan.changes[ci];
                    if !matches!(c.action, Action::NoOp | Action::Read)
                        && skipped.insert(c.addr.to_string())
                    {
                        out.skipped.push(c.addr.to_string());
                    }
                }
            }
        }
        self.write_outputs(&ctx, plan, &values, &status, &mut out);
        out
    }

    fn write_outputs(
        &self,
        ctx: &Ctx<'_>,
        plan: &Plan,
        values: &Values,
        status: &[Status],
        out: &mut ApplyOutcome,
    ) {
        let mut recs = Vec::new();
        if !plan.destroy {
            let root = terrane_core::ModulePath::root();
            for name in self.config.root.outputs.keys() {
                let id = self
                    .graph
                    .id(&NodeKey::Output(root.clone(), name.clone()))
                    .expect("output node");
                if status[id] != Status::Done {
                    continue;
                }
                if let Some((v, s)) = values.named.get(&id) {
                    if v.is_known() {
                        recs.push(OutputRecord {
                            name: name.clone(),
                            value: v.to_json(),
                            sensitive: *s,
                        });
                    }
                }
            }
        }
        if let Err(e) = ctx.store.set_outputs(&ctx.ws, &recs) {
            out.diags.extend(state_err(e));
        }
    }

    /// Checks the postconditions of a resource node's instances against what the provider
    /// returned. A failure keeps the object in state (it exists) but fails the node, so nothing
    /// that depends on it starts.
    fn postconditions_hold(
        &self,
        id: usize,
        values: &Values,
        inst_values: &HashMap<usize, BTreeMap<InstanceKey, Value>>,
        out: &mut ApplyOutcome,
    ) -> bool {
        let NodeKind::Resource { addr, config } = &self.graph.nodes[id].kind else {
            return true;
        };
        if config.lifecycle.postconditions.is_empty() {
            return true;
        }
        let Some(vals) = inst_values.get(&id) else {
            return true;
        };
        let expansion = self.expand(values, &config.parse(), &addr.module).ok();
        let mut ok = true;
        for (key, v) in vals {
            let inst = addr.instance(key.clone());
            let (failed, _) =
                self.check_conditions(values, config, &inst, expansion.as_ref(), Some(v));
            if !failed.is_empty() {
                ok = false;
                out.diags.extend(Diagnostics(failed));
                out.failed
                    .push((inst.to_string(), "postcondition failed".into()));
            }
        }
        ok
    }

    fn finish_resource_node(
        &self,
        id: usize,
        values: &mut Values,
        inst_values: &mut HashMap<usize, BTreeMap<InstanceKey, Value>>,
        out: &mut ApplyOutcome,
    ) {
        let NodeKind::Resource { addr, config } = &self.graph.nodes[id].kind else {
            return;
        };
        let vals = inst_values.remove(&id).unwrap_or_default();
        let expansion = match self.expand(values, &config.parse(), &addr.module) {
            Ok(e) => e,
            Err(d) => {
                out.diags.push(d);
                return;
            }
        };
        let mut sensitive: std::collections::BTreeSet<String> = self
            .schema_for(&self.graph.provider_key(addr, config), addr.mode, &addr.ty)
            .map(|s| s.sensitive_attrs().map(String::from).collect())
            .unwrap_or_default();
        for k in vals.keys() {
            if let Some(si) = self.state.get(&addr.instance(k.clone())) {
                sensitive.extend(si.sensitive.iter().cloned());
            }
        }
        values.resources.insert(
            id,
            ResourceValue::new(assemble(&expansion, &vals), sensitive),
        );
    }
}
