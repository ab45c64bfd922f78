//! Values of graph nodes during a walk, and the [`Scope`] that expressions resolve against.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use terrane_core::{Diagnostic, ModulePath, ResourceAddr, Value, ValueMap};

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

    /// The object of one module instance's outputs (`module.net`).
    fn module_object(
        &self,
        child: &ModulePath,
        cm: &crate::config::ModuleConfig,
        target: &RefTarget,
    ) -> Result<Resolved, String> {
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
}

impl Scope for ModuleScope<'_> {
    fn resolve(&self, target: &RefTarget) -> Result<Resolved, String> {
        let m = self.module.clone();
        match target {
            RefTarget::Var(n) => self.named(NodeKey::Var(m, n.clone()), target),
            RefTarget::Local(n) => self.named(NodeKey::Local(m, n.clone()), target),
            RefTarget::Module(c, out) => {
                let call = self
                    .graph
                    .module(&m)
                    .module_calls
                    .get(c)
                    .ok_or_else(|| format!("No module call named {c:?}."))?;
                let expansion = self.graph.instances.of(&m, c);
                if let Expansion::Single = expansion {
                    let child = m.child(c);
                    return match out {
                        Some(o) => self.named(NodeKey::Output(child, o.clone()), target),
                        None => self.module_object(&child, &call.child, target),
                    };
                }
                if let Some(o) = out {
                    let meta = if matches!(expansion, Expansion::Count(_)) {
                        "count"
                    } else {
                        "for_each"
                    };
                    return Err(format!("module.{c} has {meta}, so it is a collection of module instances: refer to one instance's output, as in module.{c}[KEY].{o}, or to all of them as module.{c}."));
                }
                let mut sens = Sens::No;
                let mut objects = Vec::new();
                for key in expansion.keys() {
                    let r = self.module_object(&m.child_instance(c, &key), &call.child, target)?;
                    if matches!(r.sens, Sens::All) {
                        sens = Sens::All;
                    }
                    objects.push((key, r.value));
                }
                let value = match expansion {
                    Expansion::Count(_) => {
                        Value::List(objects.into_iter().map(|(_, v)| v).collect())
                    }
                    _ => Value::Map(
                        objects
                            .into_iter()
                            .map(|(k, v)| match k {
                                terrane_core::InstanceKey::Str(k) => (k, v),
                                other => (other.to_string(), v),
                            })
                            .collect(),
                    ),
                };
                Ok(Resolved { value, sens })
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
            RefTarget::Path => Ok(Resolved::plain(path_value(
                &self.module_dir(),
                self.root_dir,
            ))),
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

/// The `path` object: `path.module`, `path.root` and `path.cwd`.
pub fn path_value(module_dir: &std::path::Path, root_dir: &std::path::Path) -> Value {
    Value::map([
        ("module", Value::from(module_dir.display().to_string())),
        ("root", Value::from(root_dir.display().to_string())),
        (
            "cwd",
            Value::from(
                std::env::current_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default(),
            ),
        ),
    ])
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
    /// The expansion of a `count` argument `e` whose value is `v` (`validate_only`: an unknown
    /// count is one instance).
    pub fn of_count(
        v: Value,
        e: &crate::config::Expr,
        validate_only: bool,
    ) -> Result<Expansion, Diagnostic> {
        match v {
            Value::Number(n) if n >= 0.0 && n.fract() == 0.0 => Ok(Expansion::Count(n as usize)),
            Value::Unknown if validate_only => Ok(Expansion::Count(1)),
            Value::Unknown => Err(Diagnostic::error("Invalid count argument", "The \"count\" value depends on resource attributes that cannot be determined until apply, so Terrane cannot predict how many instances will be created. To work around this, use -target to first apply only the resources that the count depends on.").with_range(e.range())),
            other => Err(Diagnostic::error("Invalid count argument", format!("The given \"count\" argument value is unsuitable: a whole number of zero or more is required, got {other}.")).with_range(e.range())),
        }
    }

    /// The expansion of a `for_each` argument `e` whose value is `v` (a map, or a set of
    /// strings); `sensitive` when reading it read a sensitive value.
    pub fn of_for_each(
        v: Value,
        sensitive: bool,
        e: &crate::config::Expr,
        validate_only: bool,
    ) -> Result<Expansion, Diagnostic> {
        if sensitive {
            return Err(Diagnostic::error("Invalid for_each argument", "Sensitive values, or values derived from sensitive values, cannot be used as for_each arguments: they would appear in resource addresses.").with_range(e.range()));
        }
        match v {
            Value::Map(m) => Ok(Expansion::ForEach(m)),
            Value::List(l) => {
                let mut m = ValueMap::new();
                for item in l {
                    match item {
                        Value::String(s) => {
                            m.insert(s.clone(), Value::String(s));
                        }
                        Value::Unknown if validate_only => {}
                        other => return Err(Diagnostic::error("Invalid for_each argument", format!("The given \"for_each\" argument value is unsuitable: a set of strings or a map is required, and this set has an element of type {} ({other}).", other.type_name())).with_range(e.range())),
                    }
                }
                Ok(Expansion::ForEach(m))
            }
            Value::Unknown if validate_only => Ok(Expansion::ForEach(ValueMap::from([("validate".to_string(), Value::Unknown)]))),
            Value::Unknown => Err(Diagnostic::error("Invalid for_each argument", "The \"for_each\" map includes keys or set values derived from resource attributes that cannot be determined until apply, so Terrane cannot determine the full set of keys that will identify the instances of this resource.").with_range(e.range())),
            Value::Null => Err(Diagnostic::error("Invalid for_each argument", "The given \"for_each\" argument value is null. A map, or set of strings, is allowed.").with_range(e.range())),
            other => Err(Diagnostic::error("Invalid for_each argument", format!("The given \"for_each\" argument value is unsuitable: a map, or set of strings, is required, got {}.", other.type_name())).with_range(e.range())),
        }
    }

    pub fn keys(&self) -> Vec<terrane_core::InstanceKey> {
        use terrane_core::InstanceKey as K;
        match self {
            Expansion::Single => vec![K::None],
            Expansion::Count(n) => (0..*n as i64).map(K::Int).collect(),
            Expansion::ForEach(m) => m.keys().map(|k| K::Str(k.clone())).collect(),
        }
    }
}
