//! Planning: walk the graph in dependency order (the generic walker, see [`walker`]), evaluate
//! each resource instance's configuration, ask its provider to plan the change, and compare with
//! (refreshed) state.

mod moves;
mod refresh;
mod walker;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use petgraph::graph::{DiGraph, NodeIndex};
use terrane_core::{Diagnostic, Diagnostics, InstanceAddr, InstanceKey, Mode, ResourceAddr, Value};
use terrane_state::StateStore;
use tokio::sync::watch;

use crate::config::IgnoreChanges;
use crate::events::CANCEL_NONE;
use crate::graph::{NodeId, NodeKind};
use crate::plan::{Action, OutputChange, Plan, ResourceChange};
use crate::session::{state_err, Session};
use crate::values::Values;
use crate::walk::{self, Order};
use walker::PlanWalk;

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub destroy: bool,
    /// Only refresh: the plan records what changed outside Terrane and changes nothing.
    pub refresh_only: bool,
    pub refresh: bool,
    /// `-target` addresses (resources, instances or modules).
    pub targets: Vec<String>,
    /// `-exclude` addresses (OpenTofu's): everything but these and what depends on them (in a
    /// destroy: everything but these and what they depend on).
    pub excludes: Vec<String>,
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

impl Session {
    /// Plans. State must be loaded; with `refresh`, it is read back from providers first.
    pub async fn plan(
        &mut self,
        store: Option<&dyn StateStore>,
        opts: &PlanOptions,
    ) -> Result<Plan, Diagnostics> {
        let mut warnings = Vec::new();
        if let Some(store) = store {
            warnings.extend(self.reconcile_intents(store).await?);
        }
        self.configure_providers().await?;
        // A refresh-only plan records what changed outside Terrane and nothing else: the
        // renames wait for a normal plan.
        let moves = if opts.refresh_only {
            Vec::new()
        } else {
            self.apply_moved_blocks(&mut warnings)?
        };
        let forgets = if opts.refresh_only {
            Vec::new()
        } else {
            self.apply_removed_blocks()?
        };
        let imports = if opts.refresh_only || opts.destroy || self.opts.validate_only {
            Vec::new()
        } else {
            self.plan_import_blocks().await?
        };
        let (drift, refreshed) = if (opts.refresh || opts.refresh_only) && !self.opts.validate_only
        {
            self.refresh().await?
        } else {
            Default::default()
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
            moves,
            forgets,
            imports,
            refreshed,
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
        } else if !opts.excludes.is_empty() {
            Some(self.exclude_complement(&opts.excludes))
        } else {
            self.target_closure(&opts.targets)
        };
        let drifted = plan.drift.iter().map(|d| d.addr.clone()).collect();
        let limits = self.limits();
        let mut graph: DiGraph<(), ()> =
            DiGraph::with_capacity(self.graph.nodes.len(), self.graph.nodes.len());
        for _ in 0..self.graph.nodes.len() {
            graph.add_node(());
        }
        for (i, n) in self.graph.nodes.iter().enumerate() {
            for &d in &n.deps {
                graph.add_edge(NodeIndex::new(d), NodeIndex::new(i), ());
            }
        }
        // A plan changes nothing, so an interrupted one is simply abandoned.
        let (_stop, cancel) = watch::channel(CANCEL_NONE);
        let mut walk = PlanWalk::new(self, opts, drifted, targeted);
        walk::walk(&graph, Order::Forward, &limits, &mut walk, cancel).await;
        let PlanWalk {
            mut changes,
            diags: by_node,
            values,
            targeted,
            ..
        } = walk;
        if targeted.is_none() {
            changes.extend(self.plan_orphans());
        } else if !opts.excludes.is_empty() && !opts.refresh_only {
            // An orphan goes unless it is excluded or a kept object depends on it.
            let kept = self.excluded_in_state(&opts.excludes, false);
            changes.extend(
                self.plan_orphans()
                    .into_iter()
                    .filter(|c| !kept.contains(&c.addr)),
            );
        }
        // In the graph's order; the same mistake in every instance of a resource once.
        let mut diags = Diagnostics::new();
        let mut seen = HashSet::new();
        for d in by_node.into_values().flat_map(|d| d.0) {
            if seen.insert(d.to_string()) {
                diags.push(d);
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        plan.warnings.extend(diags.0);
        changes.sort_by(|a, b| a.addr.cmp(&b.addr));
        plan.changes = changes;
        if let Some(store) = store {
            plan.outputs = self.output_changes(store, &values)?;
        }
        if self.keep_values {
            self.kept_values = Some(values);
        }
        Ok(plan)
    }

    fn output_changes(
        &self,
        store: &dyn StateStore,
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
            .filter(|(_, addr, _)| Self::selects(targets, addr))
            .map(|(i, _, _)| i)
            .collect();
        while let Some(i) = stack.pop() {
            if set.insert(i) {
                stack.extend(self.graph.resource_deps[&i].iter().copied());
            }
        }
        Some(set)
    }

    /// Does the resource node `addr` fall under one of `addrs` (resource, instance or module
    /// addresses, as `-target` takes them)?
    fn selects(addrs: &[String], addr: &ResourceAddr) -> bool {
        let probe = addr.instance(InstanceKey::None);
        addrs
            .iter()
            .any(|t| target_matches(t, &probe) || t.starts_with(&format!("{addr}[")))
    }

    /// Resource nodes left to plan under -exclude: all but the excluded ones and everything
    /// that depends on them.
    fn exclude_complement(&self, excludes: &[String]) -> HashSet<NodeId> {
        let mut dependents: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
        for (i, deps) in self.graph.resource_deps.iter() {
            for &d in deps {
                dependents.entry(d).or_default().push(i);
            }
        }
        let mut excluded = HashSet::new();
        let mut stack: Vec<NodeId> = self
            .graph
            .resource_nodes()
            .filter(|(_, addr, _)| Self::selects(excludes, addr))
            .map(|(i, _, _)| i)
            .collect();
        while let Some(i) = stack.pop() {
            if excluded.insert(i) {
                stack.extend(dependents.get(&i).into_iter().flatten().copied());
            }
        }
        self.graph
            .resource_nodes()
            .map(|(i, _, _)| i)
            .filter(|i| !excluded.contains(i))
            .collect()
    }

    /// Instances in state that -exclude keeps: those it names, and, following the dependencies
    /// state records, what depends on them (`upstream` false: a plan keeps their dependents
    /// unchanged) or what they depend on (`upstream` true: a destroy keeps what they need).
    fn excluded_in_state(&self, excludes: &[String], upstream: bool) -> BTreeSet<InstanceAddr> {
        let seed = self
            .state
            .keys()
            .filter(|a| excludes.iter().any(|t| target_matches(t, a)))
            .cloned()
            .collect();
        self.state_closure(seed, upstream)
    }

    /// `set` and, following the dependencies state records, every instance that depends on
    /// one of them (`upstream` false) or that one of them depends on (`upstream` true).
    fn state_closure(
        &self,
        mut set: BTreeSet<InstanceAddr>,
        upstream: bool,
    ) -> BTreeSet<InstanceAddr> {
        loop {
            let res: HashSet<String> = set.iter().map(|a| a.resource.to_string()).collect();
            let needed: HashSet<&String> = set
                .iter()
                .filter(|_| upstream)
                .flat_map(|k| self.state[k].deps.iter())
                .collect();
            let more: Vec<InstanceAddr> = self
                .state
                .values()
                .filter(|s| !set.contains(&s.addr))
                .filter(|s| {
                    if upstream {
                        needed.contains(&s.addr.resource.to_string())
                    } else {
                        s.deps.iter().any(|d| res.contains(d))
                    }
                })
                .map(|s| s.addr.clone())
                .collect();
            if more.is_empty() {
                return set;
            }
            set.extend(more);
        }
    }

    /// The instances of `addr` in state: a range of the state map, which orders instances by
    /// resource, then key (no key first).
    pub(crate) fn prior_instances<'a>(
        &'a self,
        addr: &'a ResourceAddr,
    ) -> impl Iterator<Item = &'a InstanceAddr> + 'a {
        self.state
            .range(addr.instance(InstanceKey::None)..)
            .map(|(a, _)| a)
            .take_while(move |a| a.resource == *addr)
    }

    /// Instances in state whose resource block is gone from the configuration.
    fn plan_orphans(&self) -> Vec<ResourceChange> {
        let mut out = Vec::new();
        for (addr, si) in &self.state {
            if addr.resource.mode != Mode::Managed {
                continue;
            }
            if self
                .graph
                .id(&crate::graph::NodeKey::Resource(addr.resource.clone()))
                .is_none()
            {
                out.push(delete_change(
                    si,
                    Some("its resource block is no longer in the configuration"),
                ));
            }
        }
        out
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
            selected = self.state_closure(selected, false);
        }
        if !opts.excludes.is_empty() {
            let kept = self.excluded_in_state(&opts.excludes, true);
            selected.retain(|a| !kept.contains(a));
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

pub(super) fn delete_change(
    si: &crate::session::StateInstance,
    why: Option<&str>,
) -> ResourceChange {
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

pub(super) fn prevent_destroy_error(
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
pub(super) fn apply_ignore_changes(
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
