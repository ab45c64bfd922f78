//! The dependency graph of a configuration: one node per variable, local, output, resource block
//! and provider configuration in every module instance, with an edge for every reference.
//! Built from configuration alone; plan and apply walk it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use terrane_core::{Diagnostic, Diagnostics, Mode, ModulePath, ResourceAddr, SourceRange};

use crate::config::{Config, Expr, ModuleConfig, ResourceConfig};
use crate::expand::ModuleInstances;
use crate::refs::{Ref, RefCollector, RefTarget};
use crate::values::Expansion;

pub type NodeId = usize;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NodeKey {
    Var(ModulePath, String),
    Local(ModulePath, String),
    Output(ModulePath, String),
    Check(ModulePath, String),
    Resource(ResourceAddr),
    Provider(String),
}

impl fmt::Display for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = |m: &ModulePath| {
            if m.is_root() {
                String::new()
            } else {
                format!("{m}.")
            }
        };
        match self {
            NodeKey::Var(m, n) => write!(f, "{}var.{n}", prefix(m)),
            NodeKey::Local(m, n) => write!(f, "{}local.{n}", prefix(m)),
            NodeKey::Output(m, n) => write!(f, "{}output.{n}", prefix(m)),
            NodeKey::Check(m, n) => write!(f, "{}check.{n}", prefix(m)),
            NodeKey::Resource(a) => write!(f, "{a}"),
            NodeKey::Provider(k) => write!(f, "{k}"),
        }
    }
}

#[derive(Debug)]
pub enum NodeKind {
    Var {
        module: ModulePath,
        name: String,
    },
    Local {
        module: ModulePath,
        name: String,
    },
    Output {
        module: ModulePath,
        name: String,
    },
    /// A `check` block's assertions.
    Check {
        module: ModulePath,
        name: String,
    },
    Resource {
        addr: ResourceAddr,
        config: Arc<ResourceConfig>,
    },
    Provider {
        key: String,
        name: String,
    },
}

#[derive(Debug)]
pub struct Node {
    pub key: NodeKey,
    pub kind: NodeKind,
    pub deps: Vec<NodeId>,
    pub range: Option<SourceRange>,
}

#[derive(Debug)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub index: HashMap<NodeKey, NodeId>,
    /// Every module instance (`module.svc["api"]`) and its configuration.
    pub modules: HashMap<ModulePath, Arc<ModuleConfig>>,
    /// How each module call expands (`count`, `for_each`), per calling module instance.
    pub instances: ModuleInstances,
    /// Per module instance that is passed providers (`providers = { aws = aws.west }`, in it
    /// or in a module above it): its configuration keys -> the root module's.
    pub provider_maps: HashMap<ModulePath, BTreeMap<String, String>>,
    /// Nodes in an order where every node comes after its dependencies.
    pub order: Vec<NodeId>,
    /// For each resource node: the resource nodes it depends on, directly or through
    /// variables, locals and module outputs.
    pub resource_deps: ResourceDeps,
}

/// Per resource node, the resource nodes it depends on (sorted, no repeats), indexed by node:
/// at 100,000 resources a map of sets was 10 MB, this is 2.
#[derive(Debug, Default)]
pub struct ResourceDeps(Vec<Option<Box<[NodeId]>>>);

impl ResourceDeps {
    /// The resource's dependencies, or `None` for a node that is not a resource.
    pub fn get(&self, id: &NodeId) -> Option<&[NodeId]> {
        self.0.get(*id).and_then(|d| d.as_deref())
    }

    /// Every resource node with its dependencies, in node order.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, &[NodeId])> {
        self.0
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.as_deref().map(|d| (i, d)))
    }

    fn set(&mut self, id: NodeId, deps: BTreeSet<NodeId>) {
        if self.0.len() <= id {
            self.0.resize_with(id + 1, || None);
        }
        self.0[id] = Some(deps.into_iter().collect());
    }
}

impl std::ops::Index<&NodeId> for ResourceDeps {
    type Output = [NodeId];
    fn index(&self, id: &NodeId) -> &[NodeId] {
        self.get(id).expect("a resource node")
    }
}

impl Graph {
    pub fn id(&self, key: &NodeKey) -> Option<NodeId> {
        self.index.get(key).copied()
    }

    pub fn resource_nodes(
        &self,
    ) -> impl Iterator<Item = (NodeId, &ResourceAddr, &Arc<ResourceConfig>)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| match &n.kind {
                NodeKind::Resource { addr, config } => Some((i, addr, config)),
                _ => None,
            })
    }

    /// The configuration of a resource, if its block is in the configuration.
    pub fn resource_config(&self, addr: &ResourceAddr) -> Option<&Arc<ResourceConfig>> {
        match &self.nodes[self.id(&NodeKey::Resource(addr.clone()))?].kind {
            NodeKind::Resource { config, .. } => Some(config),
            _ => None,
        }
    }

    /// Where a node is declared.
    pub fn node_range(&self, id: NodeId) -> Option<SourceRange> {
        match &self.nodes[id].kind {
            NodeKind::Resource { config, .. } => Some(config.range()),
            _ => self.nodes[id].range.clone(),
        }
    }

    /// The provider configuration (a root module key, `provider.aws.west`) of the resource
    /// `addr` configured by `rc`: its own `provider` argument or default, as its module was
    /// passed it.
    pub fn provider_key(&self, addr: &ResourceAddr, rc: &ResourceConfig) -> String {
        let own = rc.provider_key();
        match self
            .provider_maps
            .get(&addr.module)
            .and_then(|m| m.get(&own))
        {
            Some(k) => k.clone(),
            None => own,
        }
    }

    pub fn module(&self, m: &ModulePath) -> &Arc<ModuleConfig> {
        &self.modules[m]
    }

    /// Graphviz DOT of the resources and providers and the dependencies between them.
    pub fn to_dot(&self) -> String {
        let mut out = String::from(
            "digraph terrane {\n  compound = \"true\"\n  newrank = \"true\"\n  rankdir = \"RL\"\n",
        );
        for (i, n) in self.nodes.iter().enumerate() {
            if matches!(
                n.kind,
                NodeKind::Resource { .. } | NodeKind::Provider { .. }
            ) {
                let shape = if matches!(n.kind, NodeKind::Provider { .. }) {
                    "diamond"
                } else {
                    "box"
                };
                let key = dot_escape(&n.key.to_string());
                out.push_str(&format!(
                    "  \"{key}\" [label = \"{key}\", shape = \"{shape}\"]\n"
                ));
                let deps: BTreeSet<String> = match n.kind {
                    NodeKind::Resource { .. } => self.resource_deps[&i]
                        .iter()
                        .map(|d| self.nodes[*d].key.to_string())
                        .chain(
                            n.deps
                                .iter()
                                .filter(|d| {
                                    matches!(self.nodes[**d].kind, NodeKind::Provider { .. })
                                })
                                .map(|d| self.nodes[*d].key.to_string()),
                        )
                        .collect(),
                    _ => BTreeSet::new(),
                };
                for d in deps {
                    out.push_str(&format!("  \"{key}\" -> \"{}\"\n", dot_escape(&d)));
                }
            }
        }
        out.push_str("}\n");
        out
    }
}

/// `s` as the inside of a DOT string (module instance keys are quoted: `module.a["k"]`).
fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// (node, module, references, file, offset of the references' spans in the file).
type Pending = (
    NodeId,
    ModulePath,
    Vec<Ref>,
    Arc<crate::source::SourceFile>,
    usize,
);

struct Builder {
    g: Graph,
    diags: Diagnostics,
    /// (node, module, references) to resolve once all nodes exist.
    pending: Vec<Pending>,
    /// Extra edges: (node, depends on node).
    extra: Vec<(NodeId, NodeId)>,
}

/// Builds the graph of `config`. Undeclared references and cycles are errors.
/// Builds the graph of `config` with its module calls expanded as `instances` says
/// (`crate::expand::expand_modules`).
pub fn build(config: &Config, instances: ModuleInstances) -> Result<Graph, Diagnostics> {
    let mut b = Builder {
        g: Graph {
            nodes: Vec::new(),
            index: HashMap::new(),
            modules: HashMap::new(),
            instances,
            provider_maps: HashMap::new(),
            order: Vec::new(),
            resource_deps: ResourceDeps::default(),
        },
        diags: Diagnostics::new(),
        pending: Vec::new(),
        extra: Vec::new(),
    };
    b.add_module(
        ModulePath::root(),
        config.root.clone(),
        None,
        &[],
        &BTreeMap::new(),
    );
    // Provider nodes: every configured provider, and an implied one for every provider used.
    for p in &config.root.providers {
        b.add_provider(p.key(), p.name.clone(), Some(p.range.clone()));
    }
    let users: Vec<(NodeId, Arc<ResourceConfig>, String)> =
        b.g.resource_nodes()
            .map(|(i, addr, rc)| (i, rc.clone(), b.g.provider_key(addr, rc)))
            .collect();
    // Most resources share a few providers: each key is looked up (or added) once.
    let mut pids: HashMap<String, Option<NodeId>> = HashMap::new();
    for (i, rc, key) in users {
        let pid = match pids.get(&key) {
            Some(p) => *p,
            None => {
                let p = match b.g.id(&NodeKey::Provider(key.clone())) {
                    Some(p) => Some(p),
                    None if key.matches('.').count() == 2 => None,
                    None => Some(b.add_provider(key.clone(), rc.provider_name().to_string(), None)),
                };
                pids.insert(key.clone(), p);
                p
            }
        };
        match pid {
            Some(pid) => b.g.nodes[i].deps.push(pid),
            None => b.diags.push(
                Diagnostic::error("Provider configuration not present", format!("To work with this resource its provider configuration {key} must be declared with a provider block and alias."))
                    .with_range(Some(rc.range())),
            ),
        }
    }
    // Provider configurations may reference root variables and locals.
    let provs: Vec<(NodeId, Vec<Ref>, Arc<crate::source::SourceFile>, usize)> = config
        .root
        .providers
        .iter()
        .map(|p| {
            let mut c = RefCollector::new();
            c.body(&p.body, &["alias"]);
            (
                b.g.id(&NodeKey::Provider(p.key()))
                    .expect("provider node added"),
                c.refs,
                p.file.clone(),
                p.offset,
            )
        })
        .collect();
    for (id, refs, file, offset) in provs {
        b.pending.push((id, ModulePath::root(), refs, file, offset));
    }
    b.resolve_pending();
    for (n, d) in std::mem::take(&mut b.extra) {
        b.g.nodes[n].deps.push(d);
    }
    for n in &mut b.g.nodes {
        n.deps.sort_unstable();
        n.deps.dedup();
    }
    if b.diags.has_errors() {
        return Err(b.diags);
    }
    b.toposort()?;
    b.compute_resource_deps();
    Ok(b.g)
}

impl Builder {
    fn add(&mut self, key: NodeKey, kind: NodeKind, range: Option<SourceRange>) -> NodeId {
        let id = self.g.nodes.len();
        self.g.index.insert(key.clone(), id);
        self.g.nodes.push(Node {
            key,
            kind,
            deps: Vec::new(),
            range,
        });
        id
    }

    fn add_provider(&mut self, key: String, name: String, range: Option<SourceRange>) -> NodeId {
        self.add(
            NodeKey::Provider(key.clone()),
            NodeKind::Provider { key, name },
            range,
        )
    }

    fn refs_of(exprs: &[&Expr]) -> Vec<Ref> {
        let mut c = RefCollector::new();
        for e in exprs {
            c.expr(&e.expr);
        }
        c.refs
    }

    /// Adds the nodes of one module instance. `call_inputs` are the caller's input expressions
    /// (resolved in the parent module); `inherited_deps` are module-level depends_on targets.
    fn add_module(
        &mut self,
        path: ModulePath,
        m: Arc<ModuleConfig>,
        call: Option<(&ModulePath, &crate::config::ModuleCall)>,
        inherited: &[(ModulePath, Expr)],
        providers: &BTreeMap<String, String>,
    ) {
        self.g.modules.insert(path.clone(), m.clone());
        if !providers.is_empty() {
            self.g.provider_maps.insert(path.clone(), providers.clone());
        }
        for (name, v) in &m.variables {
            let id = self.add(
                NodeKey::Var(path.clone(), name.clone()),
                NodeKind::Var {
                    module: path.clone(),
                    name: name.clone(),
                },
                Some(v.range.clone()),
            );
            if let Some((parent, mc)) = call {
                if let Some(e) = mc.inputs.get(name) {
                    self.pending.push((
                        id,
                        parent.clone(),
                        Self::refs_of(&[e]),
                        e.file.clone(),
                        e.offset,
                    ));
                }
            }
        }
        for (name, l) in &m.locals {
            let id = self.add(
                NodeKey::Local(path.clone(), name.clone()),
                NodeKind::Local {
                    module: path.clone(),
                    name: name.clone(),
                },
                Some(l.range.clone()),
            );
            self.pending.push((
                id,
                path.clone(),
                Self::refs_of(&[&l.expr]),
                l.expr.file.clone(),
                l.expr.offset,
            ));
        }
        for (name, o) in &m.outputs {
            let id = self.add(
                NodeKey::Output(path.clone(), name.clone()),
                NodeKind::Output {
                    module: path.clone(),
                    name: name.clone(),
                },
                Some(o.range.clone()),
            );
            let mut exprs = vec![&o.expr];
            exprs.extend(o.depends_on.iter());
            for c in &o.preconditions {
                exprs.extend([&c.condition, &c.error_message]);
            }
            self.pending.push((
                id,
                path.clone(),
                Self::refs_of(&exprs),
                o.expr.file.clone(),
                o.expr.offset,
            ));
        }
        for (name, c) in &m.checks {
            let id = self.add(
                NodeKey::Check(path.clone(), name.clone()),
                NodeKind::Check {
                    module: path.clone(),
                    name: name.clone(),
                },
                Some(c.range.clone()),
            );
            for a in &c.asserts {
                for e in [&a.condition, &a.error_message] {
                    self.pending.push((
                        id,
                        path.clone(),
                        Self::refs_of(&[e]),
                        e.file.clone(),
                        e.offset,
                    ));
                }
            }
        }
        for ((mode, ty, name), rc) in &m.resources {
            let addr = ResourceAddr::new(path.clone(), *mode, ty, name);
            let id = self.add(
                NodeKey::Resource(addr.clone()),
                NodeKind::Resource {
                    addr,
                    config: rc.clone(),
                },
                None, // computed from the config when needed: ranges hold a copy of the line
            );
            // Collected when the block was loaded (spans already in the file).
            self.pending
                .push((id, path.clone(), rc.refs.clone(), rc.file.clone(), 0));
            let rtb = Self::refs_of(&rc.lifecycle.replace_triggered_by.iter().collect::<Vec<_>>());
            let rtb_offset = rc
                .lifecycle
                .replace_triggered_by
                .first()
                .map(|e| e.offset)
                .unwrap_or(0);
            if !rtb.is_empty() {
                self.pending
                    .push((id, path.clone(), rtb, rc.file.clone(), rtb_offset));
            }
            // What conditions read (besides self) is needed before they are checked.
            let lc = &rc.lifecycle;
            for c in lc.preconditions.iter().chain(&lc.postconditions) {
                for e in [&c.condition, &c.error_message] {
                    self.pending.push((
                        id,
                        path.clone(),
                        Self::refs_of(&[e]),
                        e.file.clone(),
                        e.offset,
                    ));
                }
            }
            for (mp, e) in inherited {
                self.pending.push((
                    id,
                    mp.clone(),
                    Self::refs_of(&[e]),
                    e.file.clone(),
                    e.offset,
                ));
            }
        }
        for (name, mc) in &m.module_calls {
            let mut inh: Vec<(ModulePath, Expr)> = inherited.to_vec();
            inh.extend(mc.depends_on.iter().map(|e| (path.clone(), e.clone())));
            // What the caller was passed, then what it passes on (named by its own keys).
            let mut passed = providers.clone();
            for (child_key, parent_key, _) in &mc.providers {
                let resolved = providers.get(parent_key).unwrap_or(parent_key);
                passed.insert(child_key.clone(), resolved.clone());
            }
            for key in self.g.instances.of(&path, name).keys() {
                let child = path.child_instance(name, &key);
                self.add_module(child, mc.child.clone(), Some((&path, mc)), &inh, &passed);
            }
        }
    }

    fn resolve_pending(&mut self) {
        for (id, module, refs, file, offset) in std::mem::take(&mut self.pending) {
            for r in refs {
                // Only a diagnostic needs it (a range holds a copy of its line).
                let range = || {
                    r.span
                        .clone()
                        .map(|s| file.range(s.start + offset..s.end + offset))
                };
                let targets: Vec<NodeKey> = match &r.target {
                    RefTarget::Var(n) => vec![NodeKey::Var(module.clone(), n.clone())],
                    RefTarget::Local(n) => vec![NodeKey::Local(module.clone(), n.clone())],
                    RefTarget::Module(c, out) => {
                        let call = self.g.modules[&module].module_calls.get(c);
                        match (call, self.g.instances.of(&module, c), out) {
                            (None, _, _) => vec![NodeKey::Output(module.child(c), String::new())],
                            (Some(_), Expansion::Single, Some(o)) => {
                                vec![NodeKey::Output(module.child(c), o.clone())]
                            }
                            (Some(_), Expansion::Single, None) => {
                                module_outputs(&module.child(c), &self.g.modules)
                            }
                            (Some(_), expansion, Some(o)) => {
                                self.diags.push(Diagnostic::error("Missing module instance key", format!("module.{c} has {}, so it is a collection of module instances: refer to one instance's output, as in module.{c}[KEY].{o}, or to all of them as module.{c}.", if matches!(expansion, Expansion::Count(_)) { "count" } else { "for_each" })).with_range(range()));
                                vec![]
                            }
                            (Some(_), expansion, None) => expansion
                                .keys()
                                .iter()
                                .flat_map(|k| {
                                    module_outputs(&module.child_instance(c, k), &self.g.modules)
                                })
                                .collect(),
                        }
                    }
                    RefTarget::Resource(mode, t, n) => vec![NodeKey::Resource(ResourceAddr::new(
                        module.clone(),
                        *mode,
                        t,
                        n,
                    ))],
                    _ => vec![],
                };
                for t in targets {
                    match self.g.id(&t) {
                        Some(d)
                            if d != id
                                || !matches!(self.g.nodes[id].kind, NodeKind::Resource { .. }) =>
                        {
                            self.extra.push((id, d))
                        }
                        Some(_) => self.diags.push(
                            Diagnostic::error(
                                "Self-referential block",
                                "Configuration for a resource may not refer to itself.",
                            )
                            .with_range(range()),
                        ),
                        None => self
                            .diags
                            .push(undeclared(&r.target, &module, &self.g).with_range(range())),
                    }
                }
            }
        }
    }

    fn toposort(&mut self) -> Result<(), Diagnostics> {
        let n = self.g.nodes.len();
        let mut indeg = vec![0usize; n];
        let mut rdeps: Vec<Vec<NodeId>> = vec![Vec::new(); n];
        for (i, node) in self.g.nodes.iter().enumerate() {
            indeg[i] = node.deps.len();
            for &d in &node.deps {
                rdeps[d].push(i);
            }
        }
        let mut queue: std::collections::VecDeque<NodeId> =
            (0..n).filter(|&i| indeg[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = queue.pop_front() {
            order.push(i);
            for &r in &rdeps[i] {
                indeg[r] -= 1;
                if indeg[r] == 0 {
                    queue.push_back(r);
                }
            }
        }
        if order.len() < n {
            let remaining: BTreeSet<NodeId> = (0..n).filter(|&i| indeg[i] > 0).collect();
            let cycle = self.find_cycle(&remaining);
            let path: Vec<String> = cycle
                .iter()
                .map(|&i| self.g.nodes[i].key.to_string())
                .collect();
            let first = cycle[0];
            let mut shown = path.clone();
            shown.push(path[0].clone());
            return Err(Diagnostic::error(
                "Cycle in configuration",
                format!(
                    "These objects refer to each other in a cycle: {}.",
                    shown.join(" -> ")
                ),
            )
            .with_range(self.g.node_range(first))
            .into());
        }
        self.g.order = order;
        Ok(())
    }

    fn find_cycle(&self, remaining: &BTreeSet<NodeId>) -> Vec<NodeId> {
        // Follow dependency edges inside the remaining set until a node repeats.
        let start = *remaining.iter().next().expect("non-empty");
        let mut seen: HashMap<NodeId, usize> = HashMap::new();
        let mut path = Vec::new();
        let mut cur = start;
        loop {
            if let Some(&pos) = seen.get(&cur) {
                return path[pos..].to_vec();
            }
            seen.insert(cur, path.len());
            path.push(cur);
            cur = *self.g.nodes[cur]
                .deps
                .iter()
                .find(|d| remaining.contains(d))
                .expect("nodes in a cycle have a remaining dependency");
        }
    }

    fn compute_resource_deps(&mut self) {
        let mut through: HashMap<NodeId, Arc<BTreeSet<NodeId>>> = HashMap::new();
        for &i in &self.g.order {
            let mut set = BTreeSet::new();
            for &d in &self.g.nodes[i].deps {
                match self.g.nodes[d].kind {
                    NodeKind::Resource { .. } => {
                        set.insert(d);
                    }
                    NodeKind::Provider { .. } => {}
                    _ => set.extend(through[&d].iter().copied()),
                }
            }
            if matches!(self.g.nodes[i].kind, NodeKind::Resource { .. }) {
                self.g.resource_deps.set(i, set);
                through.insert(i, Arc::new(BTreeSet::new()));
            } else {
                through.insert(i, Arc::new(set));
            }
        }
    }
}

/// The output nodes of module instance `child`.
fn module_outputs(
    child: &ModulePath,
    modules: &HashMap<ModulePath, Arc<ModuleConfig>>,
) -> Vec<NodeKey> {
    match modules.get(child) {
        Some(cm) => cm
            .outputs
            .keys()
            .map(|o| NodeKey::Output(child.clone(), o.clone()))
            .collect(),
        None => vec![NodeKey::Output(child.clone(), String::new())],
    }
}

fn undeclared(t: &RefTarget, module: &ModulePath, g: &Graph) -> Diagnostic {
    let in_mod = if module.is_root() {
        "the root module".to_string()
    } else {
        module.to_string()
    };
    match t {
        RefTarget::Var(n) => Diagnostic::error(
            "Reference to undeclared input variable",
            format!("An input variable with the name {n:?} has not been declared in {in_mod}."),
        ),
        RefTarget::Local(n) => Diagnostic::error(
            "Reference to undeclared local value",
            format!("A local value with the name {n:?} has not been declared in {in_mod}."),
        ),
        RefTarget::Module(c, o) => {
            if g.modules[module].module_calls.contains_key(c) {
                Diagnostic::error("Unsupported attribute", format!("This object does not have an attribute named {:?}: module {c:?} has no such output.", o.clone().unwrap_or_default()))
            } else {
                Diagnostic::error(
                    "Reference to undeclared module",
                    format!("No module call named {c:?} is declared in {in_mod}."),
                )
            }
        }
        RefTarget::Resource(Mode::Data, ty, n) => Diagnostic::error(
            "Reference to undeclared resource",
            format!("A data resource \"{ty}\" \"{n}\" has not been declared in {in_mod}."),
        ),
        RefTarget::Resource(_, ty, n) => Diagnostic::error(
            "Reference to undeclared resource",
            format!("A managed resource \"{ty}\" \"{n}\" has not been declared in {in_mod}."),
        ),
        other => Diagnostic::error("Invalid reference", format!("{other:?}")),
    }
}
