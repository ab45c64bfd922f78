//! The plan as a [`Visitor`] of the generic walker. Starting a node evaluates it (variables,
//! locals and outputs entirely; a resource's expansion, each instance's configuration and its
//! preconditions); its provider calls (plan, or a data source's read) are the node's tasks, run in
//! parallel under `-parallelism` and the provider's own limit; completing the node turns their
//! answers into changes and the resource's value for what reads it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use futures::FutureExt;
use petgraph::graph::NodeIndex;
use terrane_core::{
    Diagnostic, Diagnostics, InstanceAddr, InstanceKey, Mode, PlanRequest, PlanResponse, Provider,
    ProviderError, Value,
};

use super::{apply_ignore_changes, delete_change, prevent_destroy_error, PlanOptions};
use crate::graph::{NodeId, NodeKind};
use crate::plan::{Action, ResourceChange};
use crate::refs::{expr_refs, RefTarget};
use crate::session::{Session, StateInstance};
use crate::values::{assemble, Expansion, Readers, ResourceValue, Values};
use crate::walk::{Start, TaskFuture, Visitor};

/// What a plan task hands back: the answer for instance `item` of its node.
pub(super) enum CallDone {
    /// A managed instance: the plan against its prior state, and, when it must be replaced for
    /// a reason of its own (tainted, `-replace`, `replace_triggered_by`), the plan as if new.
    Managed {
        item: usize,
        first: Result<PlanResponse, ProviderError>,
        fresh: Option<Result<PlanResponse, ProviderError>>,
    },
    /// A data source read now.
    Data {
        item: usize,
        read: Result<Value, ProviderError>,
    },
}

/// One instance of an open resource node whose provider call is out.
struct Item {
    inst: InstanceAddr,
    /// Attributes marked sensitive by the configuration's values.
    sensitive: BTreeSet<String>,
    /// Why it is replaced whatever the provider says: tainted or `-replace` (false), or
    /// `replace_triggered_by` (true: a replacement the provider requires names no reason).
    forced: Option<(String, bool)>,
    done: Option<CallDone>,
}

/// A resource node between its start and its completion.
struct Open {
    provider_key: String,
    expansion: Expansion,
    keys: Vec<InstanceKey>,
    sensitive: BTreeSet<String>,
    inst_values: BTreeMap<InstanceKey, Value>,
    items: Vec<Item>,
    /// Changes made at start (data sources read during apply).
    changes: Vec<ResourceChange>,
    /// Something failed already: the node fails when it completes.
    failed: bool,
}

pub(super) struct PlanWalk<'a> {
    pub session: &'a Session,
    pub opts: &'a PlanOptions,
    pub values: Values,
    pub changes: Vec<ResourceChange>,
    /// Instances whose refreshed value differs from state (their no-op changes carry it).
    pub drifted: HashSet<InstanceAddr>,
    /// Resource nodes with at least one create, update or replace.
    pub changed: HashSet<NodeId>,
    /// Resource nodes to plan when targeting (None: all).
    pub targeted: Option<HashSet<NodeId>>,
    /// Diagnostics of each node, by its place in the graph's order: reported in that order,
    /// whatever order the walk took.
    pub diags: BTreeMap<usize, Diagnostics>,
    pub position: Vec<usize>,
    pub readers: Readers,
    open: HashMap<NodeId, Open>,
}

impl<'a> PlanWalk<'a> {
    pub(super) fn new(
        session: &'a Session,
        opts: &'a PlanOptions,
        drifted: HashSet<InstanceAddr>,
        targeted: Option<HashSet<NodeId>>,
    ) -> PlanWalk<'a> {
        let graph = &session.graph;
        let mut position = vec![0; graph.nodes.len()];
        for (p, &id) in graph.order.iter().enumerate() {
            position[id] = p;
        }
        PlanWalk {
            session,
            opts,
            values: Values::default(),
            changes: Vec::new(),
            drifted,
            changed: HashSet::new(),
            targeted,
            diags: BTreeMap::new(),
            position,
            readers: Readers::new(graph),
            open: HashMap::new(),
        }
    }

    fn diags_of(&mut self, id: NodeId) -> &mut Diagnostics {
        self.diags.entry(self.position[id]).or_default()
    }

    /// Adds `diags` to the node's; a node without any keeps no entry (at 100,000 resources
    /// an empty entry each is 6 MB).
    fn add_diags(&mut self, id: NodeId, diags: Diagnostics) {
        if !diags.is_empty() {
            self.diags_of(id).extend(diags);
        }
    }

    /// Evaluates a resource node up to its provider calls.
    fn start_resource(&mut self, id: NodeId) -> Start<TaskFuture<CallDone>> {
        let this = self.session;
        let NodeKind::Resource { addr, config: rc } = &this.graph.nodes[id].kind else {
            return Start::Done;
        };
        let mut diags = Diagnostics::new();
        let module = &addr.module;
        let provider_key = this.graph.provider_key(addr, rc);
        let schema = match this.schema_for(&provider_key, addr.mode, &addr.ty) {
            Ok(s) => s,
            Err(d) => {
                self.diags_of(id).push(d.with_range(Some(rc.range())));
                return Start::Failed;
            }
        };
        let pb = rc.parse();
        let expansion = match this.expand(&self.values, &pb, module) {
            Ok(e) => e,
            Err(d) => {
                self.diags_of(id).push(d);
                return Start::Failed;
            }
        };
        let mut open = Open {
            provider_key: provider_key.clone(),
            keys: Vec::new(),
            sensitive: schema.sensitive_attrs().map(String::from).collect(),
            inst_values: BTreeMap::new(),
            items: Vec::new(),
            changes: Vec::new(),
            failed: false,
            expansion,
        };
        // Not targeted: keep what state has, plan nothing.
        if self.targeted.as_ref().is_some_and(|t| !t.contains(&id)) {
            for a in this.prior_instances(addr) {
                let si = &this.state[a];
                open.sensitive.extend(si.sensitive.iter().cloned());
                open.inst_values.insert(a.key.clone(), si.value.clone());
            }
            self.values.resources.insert(
                id,
                ResourceValue::new(assemble(&open.expansion, &open.inst_values), open.sensitive),
            );
            return Start::Done;
        }
        let provider = match this.provider(&provider_key) {
            Ok(p) => this.provider_at(&provider_key, addr).unwrap_or(p).clone(),
            Err(d) => {
                self.diags_of(id).push(d);
                return Start::Failed;
            }
        };
        let deps_changed = this.graph.resource_deps[&id]
            .iter()
            .any(|d| self.changed.contains(d));
        let triggered = self.replace_triggered(rc, module);
        open.keys = open.expansion.keys();
        let mut tasks = Vec::new();
        for key in open.keys.clone() {
            let inst = addr.instance(key.clone());
            let r = this.eval_instance(&self.values, rc, &pb, &inst, &open.expansion, schema);
            let has_errors = r.diags.has_errors();
            diags.extend(r.diags);
            if has_errors {
                open.inst_values.insert(key, Value::Unknown);
                continue;
            }
            for d in provider.validate(&addr.ty, &r.value) {
                let at = d
                    .attribute
                    .as_deref()
                    .and_then(|a| pb.attr_range(a))
                    .unwrap_or_else(|| rc.range());
                diags.push(d.with_range(Some(at)).with_address(&inst));
            }
            open.sensitive.extend(r.sensitive.iter().cloned());
            // Preconditions known now are checked now; the others during apply.
            let (failed, _) =
                this.check_conditions(&self.values, rc, &inst, Some(&open.expansion), None);
            if !failed.is_empty() {
                diags.extend(Diagnostics(failed));
                open.inst_values.insert(key, Value::Unknown);
                continue;
            }
            let item = open.items.len();
            if addr.mode == Mode::Data {
                let now = r.value.is_known() && !deps_changed && !this.opts.validate_only;
                let answered = if now && provider.answers_in_process() {
                    provider.read_data(&addr.ty, &r.value).now_or_never()
                } else {
                    None
                };
                if let Some(read) = answered {
                    open.items.push(Item {
                        inst,
                        sensitive: r.sensitive,
                        forced: None,
                        done: Some(CallDone::Data { item, read }),
                    });
                } else if now {
                    let (p, ty, config) = (provider.clone(), addr.ty.clone(), r.value);
                    tasks.push((
                        Some(provider_key.clone()),
                        Box::pin(async move {
                            CallDone::Data {
                                item,
                                read: p.read_data(&ty, &config).await,
                            }
                        }) as TaskFuture<CallDone>,
                    ));
                    open.items.push(Item {
                        inst,
                        sensitive: r.sensitive,
                        forced: None,
                        done: None,
                    });
                } else {
                    // Read during apply: planned from the configuration alone.
                    let schema = provider
                        .schema()
                        .data_sources
                        .get(addr.ty.as_ref())
                        .cloned()
                        .unwrap_or_default();
                    let planned = schema.default_plan(None, &r.value).0;
                    let (failed, _) = this.check_conditions(
                        &self.values,
                        rc,
                        &inst,
                        Some(&open.expansion),
                        Some(&planned),
                    );
                    diags.extend(Diagnostics(failed));
                    open.inst_values.insert(key, planned.clone());
                    open.changes.push(read_change(
                        inst,
                        &provider_key,
                        planned,
                        Some("will be read during apply"),
                        r.sensitive,
                    ));
                }
                continue;
            }
            let prior_si = this.state.get(&inst);
            let config = apply_ignore_changes(
                &rc.lifecycle.ignore_changes,
                prior_si.map(|s| &s.value),
                r.value,
                schema,
            );
            let forced = match prior_si {
                None => None,
                Some(si) if si.tainted => {
                    Some(("is tainted, so must be replaced".to_string(), false))
                }
                Some(_) if self.opts.replace.contains(&inst) => {
                    Some(("will be replaced, as requested".to_string(), false))
                }
                Some(_) => triggered.as_ref().map(|t| {
                    (
                        format!("will be replaced due to changes in replace_triggered_by ({t})"),
                        true,
                    )
                }),
            };
            if provider.answers_in_process() {
                if let Some(done) = plan_now(&*provider, &addr.ty, prior_si, &config, &forced, item)
                {
                    open.items.push(Item {
                        inst,
                        sensitive: r.sensitive,
                        forced,
                        done: Some(done),
                    });
                    continue;
                }
            }
            let prior = prior_si.map(|s| s.value.clone());
            let (p, ty, cfg, force) = (provider.clone(), addr.ty.clone(), config, forced.is_some());
            tasks.push((
                Some(provider_key.clone()),
                Box::pin(async move {
                    let first = p
                        .plan(PlanRequest {
                            type_name: &ty,
                            prior: prior.as_ref(),
                            config: &cfg,
                        })
                        .await;
                    let fresh = match &first {
                        Ok(r) if force && r.requires_replace.is_empty() => Some(
                            p.plan(PlanRequest {
                                type_name: &ty,
                                prior: None,
                                config: &cfg,
                            })
                            .await,
                        ),
                        _ => None,
                    };
                    CallDone::Managed { item, first, fresh }
                }) as TaskFuture<CallDone>,
            ));
            open.items.push(Item {
                inst,
                sensitive: r.sensitive,
                forced,
                done: None,
            });
        }
        open.failed = diags.has_errors();
        self.add_diags(id, diags);
        self.open.insert(id, open);
        Start::Tasks {
            tasks,
            failed: false,
        }
    }

    /// Turns the answers of a resource node's calls into its changes and its value.
    fn complete_resource(&mut self, id: NodeId, mut open: Open) -> bool {
        let this = self.session;
        let NodeKind::Resource { addr, config: rc } = &this.graph.nodes[id].kind else {
            return true;
        };
        let mut diags = Diagnostics::new();
        let provider_key = &open.provider_key;
        let mut changes = std::mem::take(&mut open.changes);
        let items = std::mem::take(&mut open.items);
        for item in items {
            let Item {
                inst,
                sensitive: item_sensitive,
                forced,
                done,
            } = item;
            let key = inst.key.clone();
            let Some(done) = done else {
                continue;
            };
            match done {
                CallDone::Data { read, .. } => {
                    let v = match read {
                        Ok(v) => v,
                        Err(e) => {
                            let mut d = Diagnostic::error(
                                format!("{inst}: failed to read data source"),
                                e.message,
                            )
                            .with_address(&inst);
                            // A check block's own data source only warns (its assertions
                            // then have nothing known to check).
                            if this
                                .graph
                                .module(&addr.module)
                                .check_scoped
                                .contains(&(addr.ty.to_string(), addr.name.to_string()))
                            {
                                d.severity = terrane_core::Severity::Warning;
                            }
                            diags.push(d);
                            open.inst_values.insert(key, Value::Unknown);
                            continue;
                        }
                    };
                    let (failed, _) = this.check_conditions(
                        &self.values,
                        rc,
                        &inst,
                        Some(&open.expansion),
                        Some(&v),
                    );
                    diags.extend(Diagnostics(failed));
                    open.inst_values.insert(key, v.clone());
                    changes.push(read_change(inst, provider_key, v, None, item_sensitive));
                }
                CallDone::Managed { first, fresh, .. } => {
                    let resp = match first {
                        Ok(r) => r,
                        Err(e) => {
                            diags.push(
                                Diagnostic::error(format!("{inst}: plan failed"), e.message)
                                    .with_range(Some(rc.range()))
                                    .with_address(&inst),
                            );
                            continue;
                        }
                    };
                    diags.extend(Diagnostics(resp.diagnostics));
                    let mut planned = resp.planned;
                    let requires_replace = resp.requires_replace;
                    let prior_si = this.state.get(&inst);
                    let (action, reason) = match (prior_si, forced) {
                        (None, _) => (Action::Create, None),
                        (Some(_), Some((why, false))) => (Action::Replace, Some(why)),
                        (Some(_), _) if !requires_replace.is_empty() => (Action::Replace, None),
                        (Some(_), Some((why, true))) => (Action::Replace, Some(why)),
                        (Some(si), None) if si.value != planned => (Action::Update, None),
                        (Some(_), None) => (Action::NoOp, None),
                    };
                    if let Some(fresh) = fresh {
                        match fresh {
                            Ok(r) => planned = r.planned,
                            Err(e) => {
                                diags.push(
                                    Diagnostic::error(format!("{inst}: plan failed"), e.message)
                                        .with_address(&inst),
                                );
                                continue;
                            }
                        }
                    }
                    if action == Action::Replace && rc.lifecycle.prevent_destroy {
                        diags.push(prevent_destroy_error(&inst, Some(rc.range())));
                    }
                    // Postconditions that the planned object already decides.
                    let (failed, _) = this.check_conditions(
                        &self.values,
                        rc,
                        &inst,
                        Some(&open.expansion),
                        Some(&planned),
                    );
                    diags.extend(Diagnostics(failed));
                    if action != Action::NoOp {
                        self.changed.insert(id);
                    }
                    // A no-op keeps only the prior value: the planned one is the same.
                    let planned = if action == Action::NoOp {
                        open.inst_values.insert(key, planned);
                        None
                    } else {
                        open.inst_values.insert(key, planned.clone());
                        Some(planned)
                    };
                    // A no-op needs no copy of the prior value unless refresh changed it
                    // (apply then records the refreshed value); otherwise state has it.
                    let prior = if action == Action::NoOp && !self.drifted.contains(&inst) {
                        None
                    } else {
                        prior_si.map(|s| s.value.clone())
                    };
                    // What the provider computed from a sensitive input is sensitive too.
                    let mut change_sensitive = item_sensitive;
                    if let Some(p) = planned.as_ref().or(prior.as_ref()) {
                        StateInstance::derive_sensitive(p, &mut change_sensitive);
                    }
                    changes.push(ResourceChange {
                        addr: inst,
                        provider: provider_key.clone(),
                        action,
                        prior,
                        planned,
                        requires_replace,
                        reason,
                        sensitive: change_sensitive,
                        create_before_destroy: rc.lifecycle.create_before_destroy,
                        deps: Vec::new(),
                    });
                }
            }
        }
        // Instances in state that the configuration no longer has (count shrank, key removed).
        let wanted: HashSet<&InstanceKey> = open.keys.iter().collect();
        for a in this.prior_instances(addr) {
            if !wanted.contains(&a.key) {
                let si = &this.state[a];
                let why = match &a.key {
                    InstanceKey::Int(_) if matches!(open.expansion, Expansion::Count(_)) => {
                        "its index is out of range for count"
                    }
                    InstanceKey::Str(_) if matches!(open.expansion, Expansion::ForEach(_)) => {
                        "its key is not in for_each"
                    }
                    _ => "the resource's instance keys changed",
                };
                if rc.lifecycle.prevent_destroy {
                    diags.push(prevent_destroy_error(a, Some(rc.range())));
                }
                changes.push(delete_change(si, Some(why)));
            }
        }
        // A resource whose every instance is unchanged, and was not found changed outside
        // either, needs no entry in the plan: apply takes its values from state. At 100,000
        // resources the entries of a no-change plan would be a third of its memory.
        let all_unchanged = addr.mode == Mode::Managed
            && changes.len() == open.keys.len()
            && changes
                .iter()
                .all(|c| c.action == Action::NoOp && c.prior.is_none());
        if !all_unchanged {
            // What the changes depend on, named only for a resource that has changes.
            let deps = this.dep_addrs(id);
            for c in &mut changes {
                if c.action != Action::Delete {
                    c.deps = deps.clone();
                }
            }
            self.changes.append(&mut changes);
        }
        self.values.resources.insert(
            id,
            ResourceValue::new(assemble(&open.expansion, &open.inst_values), open.sensitive),
        );
        let failed = open.failed || diags.has_errors();
        self.add_diags(id, diags);
        !failed
    }

    /// Which replace_triggered_by reference changed, if any.
    fn replace_triggered(
        &self,
        rc: &crate::config::ResourceConfig,
        module: &terrane_core::ModulePath,
    ) -> Option<String> {
        for e in &rc.lifecycle.replace_triggered_by {
            for r in expr_refs(&e.expr) {
                if let RefTarget::Resource(mode, t, n) = &r.target {
                    let a = terrane_core::ResourceAddr::new(module.clone(), *mode, t, n);
                    if let Some(id) = self
                        .session
                        .graph
                        .id(&crate::graph::NodeKey::Resource(a.clone()))
                    {
                        if self.changed.contains(&id) {
                            return Some(a.to_string());
                        }
                    }
                }
            }
        }
        None
    }
}

/// A data source read: now (`reason` None) or during apply. What it depends on is named
/// when the node completes.
fn read_change(
    addr: InstanceAddr,
    provider: &str,
    planned: Value,
    reason: Option<&str>,
    sensitive: BTreeSet<String>,
) -> ResourceChange {
    ResourceChange {
        addr,
        provider: provider.to_string(),
        action: Action::Read,
        prior: None,
        planned: Some(planned),
        requires_replace: Vec::new(),
        reason: reason.map(String::from),
        sensitive,
        create_before_destroy: false,
        deps: Vec::new(),
    }
}

/// An in-process provider's plan of one instance, made inline: `None` if a call waited.
fn plan_now(
    provider: &dyn Provider,
    ty: &str,
    prior: Option<&StateInstance>,
    config: &Value,
    forced: &Option<(String, bool)>,
    item: usize,
) -> Option<CallDone> {
    let first = provider
        .plan(PlanRequest {
            type_name: ty,
            prior: prior.map(|s| &s.value),
            config,
        })
        .now_or_never()?;
    let fresh = match &first {
        Ok(r) if forced.is_some() && r.requires_replace.is_empty() => Some(
            provider
                .plan(PlanRequest {
                    type_name: ty,
                    prior: None,
                    config,
                })
                .now_or_never()?,
        ),
        _ => None,
    };
    Some(CallDone::Managed { item, first, fresh })
}

impl Visitor for PlanWalk<'_> {
    type Task = TaskFuture<CallDone>;
    type Output = CallDone;

    fn start(&mut self, node: NodeIndex) -> Start<Self::Task> {
        let id = node.index();
        match &self.session.graph.nodes[id].kind {
            NodeKind::Resource { .. } => self.start_resource(id),
            NodeKind::Provider { .. } => Start::Done,
            _ => {
                let d = self.session.eval_named(&mut self.values, id);
                let failed = d.has_errors();
                self.add_diags(id, d);
                if failed {
                    Start::Failed
                } else {
                    Start::Done
                }
            }
        }
    }

    fn launch(&mut self, round: Vec<(NodeIndex, Self::Task)>) -> Vec<Option<TaskFuture<CallDone>>> {
        round.into_iter().map(|(_, f)| Some(f)).collect()
    }

    fn finished(&mut self, node: NodeIndex, output: CallDone) -> bool {
        let item = match &output {
            CallDone::Managed { item, .. } | CallDone::Data { item, .. } => *item,
        };
        if let Some(open) = self.open.get_mut(&node.index()) {
            open.items[item].done = Some(output);
        }
        true
    }

    fn lost(&mut self, node: NodeIndex, message: String) {
        let d = Diagnostic::error(
            format!(
                "{}: provider call lost",
                self.session.graph.nodes[node.index()].key
            ),
            message,
        );
        self.diags_of(node.index()).push(d);
        self.open.remove(&node.index());
    }

    fn complete(&mut self, node: NodeIndex) -> bool {
        let id = node.index();
        let ok = match self.open.remove(&id) {
            Some(open) => self.complete_resource(id, open),
            None => true,
        };
        // The console keeps every value; a plan otherwise lets go of one nobody reads.
        if ok && !self.session.keep_values {
            self.readers
                .release(&self.session.graph, id, &mut self.values);
        }
        ok
    }
}
