//! Planning: walk the graph in dependency order, evaluate each resource instance's configuration,
//! ask its provider to plan the change, and compare with (refreshed) state.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use terrane_core::{
    Diagnostic, Diagnostics, InstanceAddr, InstanceKey, Mode, PlanRequest, ResourceAddr, Value,
};
use terrane_state::Store;

use crate::config::IgnoreChanges;
use crate::graph::{NodeId, NodeKind};
use crate::plan::{Action, OutputChange, Plan, ResourceChange};
use crate::refs::{expr_refs, RefTarget};
use crate::session::{state_err, Session, StateInstance};
use crate::values::{assemble, ResourceValue, Values};

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub destroy: bool,
    /// Only refresh: the plan records what changed outside Terrane and changes nothing.
    pub refresh_only: bool,
    pub refresh: bool,
    /// `-target` addresses (resources, instances or modules).
    pub targets: Vec<String>,
    /// `-replace` instance addresses.
    pub replace: Vec<InstanceAddr>,
}

/// Does `target` (as written on the command line) select `addr`?
pub fn target_matches(target: &str, addr: &InstanceAddr) -> bool {
    let a = addr.to_string();
    a == target
        || addr.resource.to_string() == target
        || a.starts_with(&format!("{target}."))
        || a.starts_with(&format!("{target}["))
}

struct Walk {
    changes: Vec<ResourceChange>,
    /// Instances whose refreshed value differs from state (their no-op changes carry it).
    drifted: HashSet<InstanceAddr>,
    diags: Diagnostics,
    /// Resource nodes with at least one create, update or replace.
    changed: HashSet<NodeId>,
    /// Resource nodes to plan when targeting (None: all).
    targeted: Option<HashSet<NodeId>>,
}

/// One data source instance to read (or to plan for reading during apply).
struct DataRead<'a> {
    provider: &'a Arc<dyn terrane_core::Provider>,
    inst: &'a InstanceAddr,
    provider_key: &'a str,
    config: Value,
    /// Something it depends on changes in this plan: it is read during apply.
    deps_changed: bool,
    sensitive: &'a BTreeSet<String>,
    deps: &'a [String],
}

impl Session {
    /// Plans. State must be loaded; with `refresh`, it is read back from providers first.
    pub async fn plan(
        &mut self,
        store: Option<&Store>,
        opts: &PlanOptions,
    ) -> Result<Plan, Diagnostics> {
        let mut warnings = Vec::new();
        if let Some(store) = store {
            warnings.extend(self.reconcile_intents(store).await?);
        }
        self.configure_providers().await?;
        let drift = if (opts.refresh || opts.refresh_only) && !self.opts.validate_only {
            self.refresh().await?
        } else {
            Vec::new()
        };
        let (lineage, serial) = match store {
            Some(s) => {
                let m = s.workspace(&self.opts.workspace).map_err(state_err)?;
                (m.lineage, m.serial)
            }
            None => (String::new(), 0),
        };
        let mut plan = Plan {
            destroy: opts.destroy,
            drift,
            variables: self.opts.inputs.clone(),
            workspace: self.opts.workspace.clone(),
            lineage,
            serial,
            config_fingerprint: self.config.fingerprint(),
            targets: opts.targets.clone(),
            warnings,
            ..Plan::default()
        };
        plan.refresh_only = opts.refresh_only;
        if opts.destroy {
            plan.changes = self.plan_destroy(opts)?;
            if let Some(store) = store {
                let before = store.outputs(&self.opts.workspace).map_err(state_err)?;
                plan.outputs = before
                    .into_iter()
                    .map(|o| OutputChange {
                        name: o.name,
                        before: Some(Value::from_json(&o.value)),
                        after: None,
                        sensitive: o.sensitive,
                    })
                    .collect();
            }
            return Ok(plan);
        }
        // Refresh-only: every resource keeps what state (now refreshed) has, as resources
        // outside -target do; only outputs are evaluated again.
        let targeted = if opts.refresh_only {
            Some(HashSet::new())
        } else {
            self.target_closure(&opts.targets)
        };
        let drifted = plan.drift.iter().map(|d| d.addr.clone()).collect();
        let mut walk = Walk {
            changes: Vec::new(),
            drifted,
            diags: Diagnostics::new(),
            changed: HashSet::new(),
            targeted,
        };
        let mut values = Values::default();
        // A resource's value is kept only until everything that reads it is planned: at
        // 100,000 resources, keeping them all would double what state already holds.
        let mut readers: Vec<usize> = vec![0; self.graph.nodes.len()];
        for n in &self.graph.nodes {
            for &d in &n.deps {
                readers[d] += 1;
            }
        }
        // Nodes that failed, or depend on one that did: not evaluated, so that one mistake
        // is reported once rather than once per dependent.
        let mut failed: HashSet<NodeId> = HashSet::new();
        for i in 0..self.graph.order.len() {
            let id = self.graph.order[i];
            if i > 0 {
                let prev = self.graph.order[i - 1];
                for &d in self.graph.nodes[prev].deps.iter().chain([&prev]) {
                    if d != prev {
                        readers[d] -= 1;
                    }
                    if readers[d] == 0 {
                        values.resources.remove(&d);
                    }
                }
            }
            if self.graph.nodes[id].deps.iter().any(|d| failed.contains(d)) {
                failed.insert(id);
                continue;
            }
            let errors_before = error_count(&walk.diags);
            match &self.graph.nodes[id].kind {
                NodeKind::Resource { .. } => {
                    self.plan_resource(&mut values, id, opts, &mut walk).await
                }
                NodeKind::Provider { .. } => {}
                _ => walk.diags.extend(self.eval_named(&mut values, id)),
            }
            if error_count(&walk.diags) > errors_before {
                failed.insert(id);
            }
        }
        if walk.targeted.is_none() {
            self.plan_orphans(&mut walk);
        }
        // The same mistake in every instance of a resource is reported once.
        let mut seen = HashSet::new();
        walk.diags.0.retain(|d| seen.insert(d.to_string()));
        if walk.diags.has_errors() {
            return Err(walk.diags);
        }
        plan.warnings.extend(walk.diags.0);
        walk.changes.sort_by(|a, b| a.addr.cmp(&b.addr));
        plan.changes = walk.changes;
        if let Some(store) = store {
            plan.outputs = self.output_changes(store, &values)?;
        }
        Ok(plan)
    }

    fn output_changes(
        &self,
        store: &Store,
        values: &Values,
    ) -> Result<Vec<OutputChange>, Diagnostics> {
        let before: BTreeMap<String, (Value, bool)> = store
            .outputs(&self.opts.workspace)
            .map_err(state_err)?
            .into_iter()
            .map(|o| (o.name, (Value::from_json(&o.value), o.sensitive)))
            .collect();
        let mut out = Vec::new();
        let root = terrane_core::ModulePath::root();
        for name in self.config.root.outputs.keys() {
            let id = self
                .graph
                .id(&crate::graph::NodeKey::Output(root.clone(), name.clone()))
                .expect("output node");
            let (after, sens) = values
                .named
                .get(&id)
                .cloned()
                .unwrap_or((Value::Unknown, false));
            out.push(OutputChange {
                name: name.clone(),
                before: before.get(name).map(|b| b.0.clone()),
                after: Some(after),
                sensitive: sens,
            });
        }
        for (name, (v, s)) in before {
            if !self.config.root.outputs.contains_key(&name) {
                out.push(OutputChange {
                    name,
                    before: Some(v),
                    after: None,
                    sensitive: s,
                });
            }
        }
        Ok(out)
    }

    /// Resource nodes selected by -target plus everything they depend on.
    fn target_closure(&self, targets: &[String]) -> Option<HashSet<NodeId>> {
        if targets.is_empty() {
            return None;
        }
        let mut set = HashSet::new();
        let mut stack: Vec<NodeId> = self
            .graph
            .resource_nodes()
            .filter(|(_, addr, _)| {
                let probe = addr.instance(InstanceKey::None);
                targets
                    .iter()
                    .any(|t| target_matches(t, &probe) || t.starts_with(&format!("{addr}[")))
            })
            .map(|(i, _, _)| i)
            .collect();
        while let Some(i) = stack.pop() {
            if set.insert(i) {
                stack.extend(self.graph.resource_deps[&i].iter().copied());
            }
        }
        Some(set)
    }

    fn prior_instances(&self, addr: &ResourceAddr) -> &[InstanceAddr] {
        self.by_resource.get(addr).map(Vec::as_slice).unwrap_or(&[])
    }

    async fn plan_resource(
        &self,
        values: &mut Values,
        id: NodeId,
        opts: &PlanOptions,
        walk: &mut Walk,
    ) {
        let NodeKind::Resource { addr, config: rc } = &self.graph.nodes[id].kind else {
            return;
        };
        let module = &addr.module;
        let provider_key = rc.provider_key();
        let schema = match self.schema_for(&provider_key, addr.mode, &addr.ty) {
            Ok(s) => s,
            Err(d) => {
                walk.diags.push(d.with_range(Some(rc.range())));
                return;
            }
        };
        let pb = rc.parse();
        let expansion = match self.expand(values, &pb, module) {
            Ok(e) => e,
            Err(d) => {
                walk.diags.push(d);
                return;
            }
        };
        let mut sensitive: BTreeSet<String> = schema.sensitive_attrs().map(String::from).collect();
        let mut inst_values: BTreeMap<InstanceKey, Value> = BTreeMap::new();
        // Not targeted: keep what state has, plan nothing.
        if walk.targeted.as_ref().is_some_and(|t| !t.contains(&id)) {
            for a in self.prior_instances(addr) {
                let si = &self.state[a];
                sensitive.extend(si.sensitive.iter().cloned());
                inst_values.insert(a.key.clone(), si.value.clone());
            }
            values.resources.insert(
                id,
                ResourceValue::new(assemble(&expansion, &inst_values), sensitive),
            );
            return;
        }
        let provider = match self.provider(&provider_key) {
            Ok(p) => p.clone(),
            Err(d) => {
                walk.diags.push(d);
                return;
            }
        };
        let deps = self.dep_addrs(id);
        let deps_changed = self.graph.resource_deps[&id]
            .iter()
            .any(|d| walk.changed.contains(d));
        let triggered = self.replace_triggered(rc, module, walk);
        let keys = expansion.keys();
        let first_change = walk.changes.len();
        for key in &keys {
            let inst = addr.instance(key.clone());
            let r = self.eval_instance(values, rc, &pb, &inst, &expansion, schema);
            let has_errors = r.diags.has_errors();
            walk.diags.extend(r.diags);
            if has_errors {
                inst_values.insert(key.clone(), Value::Unknown);
                continue;
            }
            for d in provider.validate(&addr.ty, &r.value) {
                let at = d
                    .attribute
                    .as_deref()
                    .and_then(|a| pb.attr_range(a))
                    .unwrap_or_else(|| rc.range());
                walk.diags.push(d.with_range(Some(at)).with_address(&inst));
            }
            sensitive.extend(r.sensitive.iter().cloned());
            // Preconditions known now are checked now; the others during apply.
            let (failed, _) = self.check_conditions(values, rc, &inst, Some(&expansion), None);
            if !failed.is_empty() {
                walk.diags.extend(Diagnostics(failed));
                inst_values.insert(key.clone(), Value::Unknown);
                continue;
            }
            let config = r.value;
            if addr.mode == Mode::Data {
                let v = self
                    .plan_data(
                        DataRead {
                            provider: &provider,
                            inst: &inst,
                            provider_key: &provider_key,
                            config,
                            deps_changed,
                            sensitive: &r.sensitive,
                            deps: &deps,
                        },
                        walk,
                    )
                    .await;
                let (failed, _) =
                    self.check_conditions(values, rc, &inst, Some(&expansion), Some(&v));
                walk.diags.extend(Diagnostics(failed));
                inst_values.insert(key.clone(), v);
                continue;
            }
            let prior_si = self.state.get(&inst);
            let prior = prior_si.map(|s| &s.value);
            let config = apply_ignore_changes(&rc.lifecycle.ignore_changes, prior, config, schema);
            let resp = match provider
                .plan(PlanRequest {
                    type_name: &addr.ty,
                    prior,
                    config: &config,
                })
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    walk.diags.push(
                        Diagnostic::error(format!("{inst}: plan failed"), e.message)
                            .with_range(Some(rc.range()))
                            .with_address(&inst),
                    );
                    continue;
                }
            };
            walk.diags.extend(Diagnostics(resp.diagnostics.clone()));
            let mut planned = resp.planned;
            let requires_replace = resp.requires_replace;
            let (action, reason) = match prior_si {
                None => (Action::Create, None),
                Some(si) if si.tainted => (
                    Action::Replace,
                    Some("is tainted, so must be replaced".to_string()),
                ),
                Some(_) if opts.replace.contains(&inst) => (
                    Action::Replace,
                    Some("will be replaced, as requested".to_string()),
                ),
                Some(_) if !requires_replace.is_empty() => (Action::Replace, None),
                Some(_) if triggered.is_some() => (
                    Action::Replace,
                    Some(format!(
                        "will be replaced due to changes in replace_triggered_by ({})",
                        triggered.clone().unwrap_or_default()
                    )),
                ),
                Some(si) if si.value != planned => (Action::Update, None),
                Some(_) => (Action::NoOp, None),
            };
            if action == Action::Replace && requires_replace.is_empty() {
                match provider
                    .plan(PlanRequest {
                        type_name: &addr.ty,
                        prior: None,
                        config: &config,
                    })
                    .await
                {
                    Ok(r) => planned = r.planned,
                    Err(e) => {
                        walk.diags.push(
                            Diagnostic::error(format!("{inst}: plan failed"), e.message)
                                .with_address(&inst),
                        );
                        continue;
                    }
                }
            }
            if action == Action::Replace && rc.lifecycle.prevent_destroy {
                walk.diags
                    .push(prevent_destroy_error(&inst, Some(rc.range())));
            }
            // Postconditions that the planned object already decides.
            let (failed, _) =
                self.check_conditions(values, rc, &inst, Some(&expansion), Some(&planned));
            walk.diags.extend(Diagnostics(failed));
            if action != Action::NoOp {
                walk.changed.insert(id);
            }
            // A no-op keeps only the prior value: the planned one is the same.
            let planned = if action == Action::NoOp {
                inst_values.insert(key.clone(), planned);
                None
            } else {
                inst_values.insert(key.clone(), planned.clone());
                Some(planned)
            };
            // A no-op needs no copy of the prior value unless refresh changed it (apply then
            // records the refreshed value); otherwise state has it.
            let prior = if action == Action::NoOp && !walk.drifted.contains(&inst) {
                None
            } else {
                prior.cloned()
            };
            // What the provider computed from a sensitive input is sensitive too.
            let mut change_sensitive = r.sensitive;
            if let Some(p) = planned.as_ref().or(prior.as_ref()) {
                StateInstance::derive_sensitive(p, &mut change_sensitive);
            }
            walk.changes.push(ResourceChange {
                addr: inst,
                provider: provider_key.clone(),
                action,
                prior,
                planned,
                requires_replace,
                reason,
                sensitive: change_sensitive,
                create_before_destroy: rc.lifecycle.create_before_destroy,
                deps: deps.clone(),
            });
        }
        // Instances in state that the configuration no longer has (count shrank, key removed).
        let wanted: HashSet<&InstanceKey> = keys.iter().collect();
        for a in self.prior_instances(addr) {
            if !wanted.contains(&a.key) {
                let si = &self.state[a];
                let why = match &a.key {
                    InstanceKey::Int(_)
                        if matches!(expansion, crate::values::Expansion::Count(_)) =>
                    {
                        "its index is out of range for count"
                    }
                    InstanceKey::Str(_)
                        if matches!(expansion, crate::values::Expansion::ForEach(_)) =>
                    {
                        "its key is not in for_each"
                    }
                    _ => "the resource's instance keys changed",
                };
                if rc.lifecycle.prevent_destroy {
                    walk.diags.push(prevent_destroy_error(a, Some(rc.range())));
                }
                walk.changes.push(delete_change(si, Some(why)));
            }
        }
        // A resource whose every instance is unchanged, and was not found changed outside
        // either, needs no entry in the plan: apply takes its values from state. At 100,000
        // resources the entries of a no-change plan would be a third of its memory.
        let ours = &walk.changes[first_change..];
        if addr.mode == Mode::Managed
            && ours.len() == keys.len()
            && ours
                .iter()
                .all(|c| c.action == Action::NoOp && c.prior.is_none())
        {
            walk.changes.truncate(first_change);
        }
        values.resources.insert(
            id,
            ResourceValue::new(assemble(&expansion, &inst_values), sensitive),
        );
    }

    /// Reads a data source at plan time when its configuration is known and nothing it
    /// depends on changes; otherwise plans the read for apply.
    async fn plan_data(&self, read: DataRead<'_>, walk: &mut Walk) -> Value {
        let DataRead {
            provider,
            inst,
            provider_key,
            config,
            deps_changed,
            sensitive,
            deps,
        } = read;
        let schema = provider
            .schema()
            .data_sources
            .get(inst.resource.ty.as_ref())
            .cloned()
            .unwrap_or_default();
        let (deferred, planned) = if config.is_known() && !deps_changed && !self.opts.validate_only
        {
            match provider.read_data(&inst.resource.ty, &config).await {
                Ok(v) => (false, v),
                Err(e) => {
                    walk.diags.push(
                        Diagnostic::error(format!("{inst}: failed to read data source"), e.message)
                            .with_address(inst),
                    );
                    return Value::Unknown;
                }
            }
        } else {
            (true, schema.default_plan(None, &config).0)
        };
        walk.changes.push(ResourceChange {
            addr: inst.clone(),
            provider: provider_key.to_string(),
            action: Action::Read,
            prior: None,
            planned: Some(planned.clone()),
            requires_replace: Vec::new(),
            reason: deferred.then(|| "will be read during apply".to_string()),
            sensitive: sensitive.clone(),
            create_before_destroy: false,
            deps: deps.to_vec(),
        });
        planned
    }

    /// Which replace_triggered_by reference changed, if any.
    fn replace_triggered(
        &self,
        rc: &crate::config::ResourceConfig,
        module: &terrane_core::ModulePath,
        walk: &Walk,
    ) -> Option<String> {
        for e in &rc.lifecycle.replace_triggered_by {
            for r in expr_refs(&e.expr) {
                if let RefTarget::Resource(mode, t, n) = &r.target {
                    let a = ResourceAddr::new(module.clone(), *mode, t, n);
                    if let Some(id) = self.graph.id(&crate::graph::NodeKey::Resource(a.clone())) {
                        if walk.changed.contains(&id) {
                            return Some(a.to_string());
                        }
                    }
                }
            }
        }
        None
    }

    /// Instances in state whose resource block is gone from the configuration.
    fn plan_orphans(&self, walk: &mut Walk) {
        for (addr, si) in &self.state {
            if addr.resource.mode != Mode::Managed {
                continue;
            }
            if self
                .graph
                .id(&crate::graph::NodeKey::Resource(addr.resource.clone()))
                .is_none()
            {
                walk.changes.push(delete_change(
                    si,
                    Some("its resource block is no longer in the configuration"),
                ));
            }
        }
    }

    fn plan_destroy(&self, opts: &PlanOptions) -> Result<Vec<ResourceChange>, Diagnostics> {
        let mut selected: BTreeSet<InstanceAddr> = self
            .state
            .keys()
            .filter(|a| a.resource.mode == Mode::Managed)
            .filter(|a| {
                opts.targets.is_empty() || opts.targets.iter().any(|t| target_matches(t, a))
            })
            .cloned()
            .collect();
        if !opts.targets.is_empty() {
            // Also destroy whatever depends on a destroyed resource.
            loop {
                let res: HashSet<String> =
                    selected.iter().map(|a| a.resource.to_string()).collect();
                let more: Vec<InstanceAddr> = self
                    .state
                    .values()
                    .filter(|s| {
                        !selected.contains(&s.addr) && s.deps.iter().any(|d| res.contains(d))
                    })
                    .map(|s| s.addr.clone())
                    .collect();
                if more.is_empty() {
                    break;
                }
                selected.extend(more);
            }
        }
        let mut diags = Diagnostics::new();
        let mut out = Vec::new();
        for a in selected {
            if let Some(id) = self
                .graph
                .id(&crate::graph::NodeKey::Resource(a.resource.clone()))
            {
                if let NodeKind::Resource { config, .. } = &self.graph.nodes[id].kind {
                    if config.lifecycle.prevent_destroy {
                        diags.push(prevent_destroy_error(&a, Some(config.range())));
                    }
                }
            }
            out.push(delete_change(&self.state[&a], None));
        }
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(out)
    }
}

fn error_count(d: &Diagnostics) -> usize {
    d.iter().filter(|x| x.is_error()).count()
}

fn delete_change(si: &crate::session::StateInstance, why: Option<&str>) -> ResourceChange {
    ResourceChange {
        addr: si.addr.clone(),
        provider: si.provider.clone(),
        action: Action::Delete,
        prior: Some(si.value.clone()),
        planned: None,
        requires_replace: Vec::new(),
        reason: why.map(|w| format!("will be destroyed because {w}")),
        sensitive: si.sensitive.clone(),
        create_before_destroy: false,
        deps: si.deps.clone(),
    }
}

fn prevent_destroy_error(
    addr: &InstanceAddr,
    range: Option<terrane_core::SourceRange>,
) -> Diagnostic {
    Diagnostic::error(
        "Instance cannot be destroyed",
        format!("Resource {addr} has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed. To avoid this error and continue with the plan, either disable lifecycle.prevent_destroy or reduce the scope of the plan using the -target flag."),
    )
    .with_range(range)
    .with_address(addr)
}

/// With `ignore_changes`, the configuration takes the prior value of the ignored attributes.
fn apply_ignore_changes(
    ic: &IgnoreChanges,
    prior: Option<&Value>,
    config: Value,
    schema: &terrane_core::ResourceSchema,
) -> Value {
    let (Some(prior), Value::Map(mut cfg)) = (prior, config.clone()) else {
        return config;
    };
    let names: Vec<String> = match ic {
        IgnoreChanges::None => return config,
        IgnoreChanges::All => schema
            .attributes
            .iter()
            .filter(|(_, a)| a.optional || a.required)
            .map(|(k, _)| k.clone())
            .chain(schema.blocks.keys().cloned())
            .collect(),
        IgnoreChanges::Attrs(a) => a.clone(),
    };
    for n in names {
        if let Some(pv) = prior.get(&n) {
            cfg.insert(n, pv.clone());
        }
    }
    Value::Map(cfg)
}
