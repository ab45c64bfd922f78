//! Values of graph nodes during a walk, and the [`Scope`] that expressions resolve against.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use terrane_core::{ModulePath, ResourceAddr, Value, ValueMap};

use crate::eval::{describe_target, Resolved, Scope, Sens};
use crate::graph::{Graph, NodeId, NodeKey};
use crate::refs::RefTarget;

/// The value of a resource node: an object, a list (count) or a map (for_each) of objects.
#[derive(Debug, Clone)]
pub struct ResourceValue {
    pub value: Value,
    pub sensitive: Arc<BTreeSet<String>>,
}

impl ResourceValue {
    /// Keeps only the sensitive attributes that hold something in at least one instance: a
    /// null secret reveals nothing, and marking it would make every whole-object reference
    /// (`for s in aws_subnet.x : ...`) sensitive.
    pub fn new(value: Value, sensitive: BTreeSet<String>) -> ResourceValue {
        fn objects(v: &Value) -> Vec<&Value> {
            match v {
                Value::List(l) => l.iter().collect(),
                Value::Map(m)
                    if m.values()
                        .all(|x| matches!(x, Value::Map(_) | Value::Unknown))
                        && !m.is_empty() =>
                {
                    m.values().collect()
                }
                other => vec![other],
            }
        }
        let insts = objects(&value);
        let kept = sensitive
            .into_iter()
            .filter(|a| {
                insts
                    .iter()
                    .any(|o| o.is_unknown() || o.get(a).is_some_and(|x| !x.is_null()))
            })
            .collect();
        ResourceValue {
            value,
            sensitive: Arc::new(kept),
        }
    }
}

/// For each node of a graph, how many nodes that read it have not completed. A walk keeps a
/// resource's value only until then: at 100,000 resources, keeping them all would double what
/// state already holds.
#[derive(Debug)]
pub struct Readers(Vec<usize>);

impl Readers {
    pub fn new(graph: &Graph) -> Readers {
        let mut r = vec![0; graph.nodes.len()];
        for n in &graph.nodes {
            for &d in &n.deps {
                r[d] += 1;
            }
        }
        Readers(r)
    }

    /// Node `id` of `graph` completed: what it read is read once fewer, and the resource
    /// values nothing will read again are dropped from `values`.
    pub fn release(&mut self, graph: &Graph, id: NodeId, values: &mut Values) {
        for &d in &graph.nodes[id].deps {
            self.0[d] -= 1;
            if self.0[d] == 0 {
                values.resources.remove(&d);
            }
        }
        if self.0[id] == 0 {
            values.resources.remove(&id);
        }
    }
}

#[derive(Debug, Default)]
pub struct Values {
    /// Variables, locals and outputs: value and whether it is sensitive.
    pub named: HashMap<NodeId, (Value, bool)>,
    pub resources: HashMap<NodeId, ResourceValue>,
}

/// Resolves references from inside one module.
pub struct ModuleScope<'a> {
    pub graph: &'a Graph,
    pub values: &'a Values,
    pub module: &'a ModulePath,
    pub workspace: &'a str,
    pub root_dir: &'a std::path::Path,
}

impl ModuleScope<'_> {
    fn named(&self, key: NodeKey, target: &RefTarget) -> Result<Resolved, String> {
        let id = self
            .graph
            .id(&key)
            .ok_or_else(|| format!("{} is not declared.", describe_target(target)))?;
        let (v, s) = self.values.named.get(&id).ok_or_else(|| {
            format!(
                "{} has no value yet (it was not evaluated because of an earlier error).",
                describe_target(target)
            )
        })?;
        Ok(Resolved {
            value: v.clone(),
            sens: if *s { Sens::All } else { Sens::No },
        })
    }
}

impl Scope for ModuleScope<'_> {
    fn resolve(&self, target: &RefTarget) -> Result<Resolved, String> {
        let m = self.module.clone();
        match target {
            RefTarget::Var(n) => self.named(NodeKey::Var(m, n.clone()), target),
            RefTarget::Local(n) => self.named(NodeKey::Local(m, n.clone()), target),
            RefTarget::Module(c, Some(o)) => {
                self.named(NodeKey::Output(m.child(c), o.clone()), target)
            }
            RefTarget::Module(c, None) => {
                let child = m.child(c);
                let cm = self
                    .graph
                    .modules
                    .get(&child)
                    .ok_or_else(|| format!("No module call named {c:?}."))?;
                let mut out = ValueMap::new();
                let mut sens = false;
                for o in cm.outputs.keys() {
                    let r = self.named(NodeKey::Output(child.clone(), o.clone()), target)?;
                    sens |= matches!(r.sens, Sens::All);
                    out.insert(o.clone(), r.value);
                }
                Ok(Resolved {
                    value: Value::Map(out),
                    sens: if sens { Sens::All } else { Sens::No },
                })
            }
            RefTarget::Resource(mode, t, n) => {
                let addr = ResourceAddr::new(m, *mode, t, n);
                let id = self
                    .graph
                    .id(&NodeKey::Resource(addr))
                    .ok_or_else(|| format!("{} is not declared.", describe_target(target)))?;
                let rv = self.values.resources.get(&id).ok_or_else(|| {
                    format!(
                        "{} has no value yet (it was not planned because of an earlier error).",
                        describe_target(target)
                    )
                })?;
                Ok(Resolved {
                    value: rv.value.clone(),
                    sens: Sens::Attrs(rv.sensitive.clone()),
                })
            }
            RefTarget::Path => Ok(Resolved::plain(Value::map([
                (
                    "module",
                    Value::from(self.module_dir().display().to_string()),
                ),
                ("root", Value::from(self.root_dir.display().to_string())),
                (
                    "cwd",
                    Value::from(
                        std::env::current_dir()
                            .map(|d| d.display().to_string())
                            .unwrap_or_default(),
                    ),
                ),
            ]))),
            RefTarget::Terraform => Ok(Resolved::plain(Value::map([(
                "workspace",
                Value::from(self.workspace),
            )]))),
            other => Err(format!("{} cannot be used here.", describe_target(other))),
        }
    }

    fn module_dir(&self) -> PathBuf {
        self.graph
            .modules
            .get(self.module)
            .map(|m| m.dir.clone())
            .unwrap_or_else(|| PathBuf::from("."))
    }
}

/// Assembles the value of a resource from its instances' values.
pub fn assemble(kind: &Expansion, instances: &BTreeMap<terrane_core::InstanceKey, Value>) -> Value {
    use terrane_core::InstanceKey as K;
    match kind {
        Expansion::Single => instances.get(&K::None).cloned().unwrap_or(Value::Null),
        Expansion::Count(n) => Value::List(
            (0..*n as i64)
                .map(|i| instances.get(&K::Int(i)).cloned().unwrap_or(Value::Unknown))
                .collect(),
        ),
        Expansion::ForEach(m) => Value::Map(
            m.keys()
                .map(|k| {
                    (
                        k.clone(),
                        instances
                            .get(&K::Str(k.clone()))
                            .cloned()
                            .unwrap_or(Value::Unknown),
                    )
                })
                .collect(),
        ),
    }
}

/// How a resource block expands into instances.
#[derive(Debug, Clone, PartialEq)]
pub enum Expansion {
    Single,
    Count(usize),
    /// for_each: key -> each.value
    ForEach(ValueMap),
}

impl Expansion {
    pub fn keys(&self) -> Vec<terrane_core::InstanceKey> {
        use terrane_core::InstanceKey as K;
        match self {
            Expansion::Single => vec![K::None],
            Expansion::Count(n) => (0..*n as i64).map(K::Int).collect(),
            Expansion::ForEach(m) => m.keys().map(|k| K::Str(k.clone())).collect(),
        }
    }
}
