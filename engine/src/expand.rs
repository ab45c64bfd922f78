//! Module instances: every module call's `count` or `for_each`, evaluated before the graph is
//! built, so that the graph has one set of nodes per module instance (`module.svc["api"]`).
//!
//! Terraform expands module calls while it walks; Terrane builds its graph from module
//! instances, so their keys must be known first. A module call's `count` and `for_each` may
//! therefore refer to input variables, locals, `path`, `terraform.workspace`, literals and
//! functions, but not to resources, data sources or other modules' outputs: such a reference
//! is an error at its line that says so. Per-branch environments and service lists, the
//! reasons for module repetition in the seed pipelines, are variables and locals.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use terrane_core::{Diagnostic, Diagnostics, InstanceKey, ModulePath, Value};

use crate::config::{Config, ImportBlock, ImportExpr, ModuleCall, ModuleConfig};
use crate::eval::{describe_target, EvalCtx, Resolved, Scope, Sens};
use crate::refs::RefTarget;
use crate::session::instance_bindings;
use crate::values::{path_value, Expansion};

/// How each module call of each module instance expands: keyed by the calling module instance
/// and the call's name. A call without `count` or `for_each` is `Expansion::Single`.
#[derive(Debug, Default, Clone)]
pub struct ModuleInstances {
    pub calls: HashMap<(ModulePath, String), Expansion>,
}

impl ModuleInstances {
    /// The expansion of call `name` in module instance `parent` (`Single` when not known).
    pub fn of(&self, parent: &ModulePath, name: &str) -> &Expansion {
        static SINGLE: Expansion = Expansion::Single;
        self.calls
            .get(&(parent.clone(), name.to_string()))
            .unwrap_or(&SINGLE)
    }
}

/// What module expansion may read besides the configuration.
pub struct ExpandInputs<'a> {
    /// Root module input values.
    pub inputs: &'a BTreeMap<String, Value>,
    pub workspace: &'a str,
    /// Validation only: a missing root variable is unknown, and so is what depends on it.
    pub validate_only: bool,
}

/// Evaluates every module call's `count` and `for_each`, from the root down.
pub fn expand_modules(
    config: &Config,
    env: &ExpandInputs<'_>,
) -> Result<ModuleInstances, Diagnostics> {
    let mut ex = Expander {
        env,
        root_dir: &config.root.dir,
        modules: HashMap::new(),
        out: ModuleInstances::default(),
        diags: Diagnostics::new(),
        depth: Cell::new(0),
    };
    ex.visit(ModulePath::root(), &config.root);
    if ex.diags.has_errors() {
        Err(ex.diags)
    } else {
        Ok(ex.out)
    }
}

/// The `import` blocks of the root module whose keys or ids are expressions, evaluated with
/// the root's variables and locals (and `each` for `for_each`) into one block per object.
/// In validation, where variables may be unknown, blocks that depend on them are left out.
pub fn expand_imports(
    config: &Config,
    env: &ExpandInputs<'_>,
) -> Result<Vec<ImportBlock>, Diagnostics> {
    let mut ex = Expander {
        env,
        root_dir: &config.root.dir,
        modules: HashMap::new(),
        out: ModuleInstances::default(),
        diags: Diagnostics::new(),
        depth: Cell::new(0),
    };
    ex.modules.insert(ModulePath::root(), &config.root);
    let scope = StaticScope {
        ex: &ex,
        path: ModulePath::root(),
        module: &config.root,
    };
    let mut out = Vec::new();
    let mut diags = Diagnostics::new();
    for b in &config.root.import_exprs {
        if let Err(d) = import_instances(&scope, b, env.validate_only, &mut out) {
            diags.push(d);
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}

fn import_instances(
    scope: &StaticScope<'_, '_>,
    b: &ImportExpr,
    validate_only: bool,
    out: &mut Vec<ImportBlock>,
) -> Result<(), Diagnostic> {
    let expansion = match &b.for_each {
        Some(fe) => {
            let mut ctx = EvalCtx::at_expr(scope, fe);
            let v = ctx.eval(&fe.expr)?;
            if v.contains_unknown() && validate_only {
                return Ok(());
            }
            Expansion::of_for_each(v, ctx.sensitive, fe, validate_only)?
        }
        None => Expansion::Single,
    };
    for each in expansion.keys() {
        let bindings = match &b.for_each {
            Some(_) => instance_bindings(&each, Some(&expansion)),
            None => Vec::new(),
        };
        let eval = |e: &crate::config::Expr| -> Result<Value, Diagnostic> {
            let mut ctx = EvalCtx::at_expr(scope, e);
            for (n, v) in &bindings {
                ctx.bind(n, v.clone());
            }
            ctx.eval(&e.expr)
        };
        let key = match &b.key {
            None => InstanceKey::None,
            Some(k) => match eval(k)? {
                Value::String(s) => InstanceKey::Str(s),
                Value::Number(n) if n >= 0.0 && n.fract() == 0.0 => InstanceKey::Int(n as i64),
                Value::Unknown if validate_only => continue,
                other => {
                    return Err(Diagnostic::error(
                        "Invalid import address",
                        format!("The key of an imported instance is a string or a whole number, got {other}."),
                    )
                    .with_range(k.range()))
                }
            },
        };
        let id = match eval(&b.id)? {
            Value::String(s) if !s.is_empty() => s,
            Value::Unknown if validate_only => continue,
            other => {
                return Err(Diagnostic::error(
                    "Invalid import id",
                    format!("The id of an import block is the object's ID as a non-empty string, got {other}."),
                )
                .with_range(b.id.range()))
            }
        };
        let to = b.resource.instance(key);
        if out.iter().any(|o: &ImportBlock| o.to == to) {
            return Err(Diagnostic::error(
                "Duplicate import configuration",
                format!("Two import blocks, or two instances of one, import into {to}."),
            )
            .with_range(Some(b.range.clone())));
        }
        out.push(ImportBlock {
            to,
            id,
            provider: b.provider.clone(),
            range: b.range.clone(),
        });
    }
    Ok(())
}

/// How deep locals and variables may refer to each other while one argument is evaluated
/// (a cycle among them is reported by the graph; this only stops the recursion).
const MAX_DEPTH: usize = 64;

struct Expander<'a> {
    env: &'a ExpandInputs<'a>,
    root_dir: &'a Path,
    /// Every module instance visited so far and its configuration.
    modules: HashMap<ModulePath, &'a ModuleConfig>,
    out: ModuleInstances,
    diags: Diagnostics,
    depth: Cell<usize>,
}

impl<'a> Expander<'a> {
    fn visit(&mut self, path: ModulePath, m: &'a ModuleConfig) {
        self.modules.insert(path.clone(), m);
        for (name, call) in &m.module_calls {
            let expansion = match self.expansion(&path, m, call) {
                Ok(e) => e,
                Err(d) => {
                    self.diags.push(d);
                    continue;
                }
            };
            let keys = expansion.keys();
            self.out
                .calls
                .insert((path.clone(), name.clone()), expansion);
            for key in keys {
                self.visit(path.child_instance(name, &key), &call.child);
            }
        }
    }

    fn expansion(
        &self,
        path: &ModulePath,
        m: &'a ModuleConfig,
        call: &ModuleCall,
    ) -> Result<Expansion, Diagnostic> {
        let scope = StaticScope {
            ex: self,
            path: path.clone(),
            module: m,
        };
        let validate_only = self.env.validate_only;
        if let Some(c) = &call.count {
            let mut ctx = EvalCtx::at_expr(&scope, c);
            let v = ctx.eval(&c.expr)?;
            return Expansion::of_count(v, c, validate_only);
        }
        if let Some(fe) = &call.for_each {
            let mut ctx = EvalCtx::at_expr(&scope, fe);
            let v = ctx.eval(&fe.expr)?;
            return Expansion::of_for_each(v, ctx.sensitive, fe, validate_only);
        }
        Ok(Expansion::Single)
    }
}

/// A nested evaluation's error as the text of the outer one, with where it happened.
fn message(d: Diagnostic) -> String {
    match &d.range {
        Some(r) => format!("{} {} (at {}:{})", d.summary, d.detail, r.file, r.line),
        None => format!("{} {}", d.summary, d.detail),
    }
}

/// Resolves references from one module instance while modules are expanded.
struct StaticScope<'e, 'a> {
    ex: &'e Expander<'a>,
    path: ModulePath,
    module: &'a ModuleConfig,
}

impl StaticScope<'_, '_> {
    fn nested<T>(&self, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
        let d = self.ex.depth.get();
        if d >= MAX_DEPTH {
            return Err("Variables and locals refer to each other too deeply (a cycle?).".into());
        }
        self.ex.depth.set(d + 1);
        let r = f();
        self.ex.depth.set(d);
        r
    }

    fn var(&self, name: &str, target: &RefTarget) -> Result<Resolved, String> {
        let var = self
            .module
            .variables
            .get(name)
            .ok_or_else(|| format!("{} is not declared.", describe_target(target)))?;
        let (raw, sens) = match self.path.parent_call() {
            None => match self.ex.env.inputs.get(name) {
                Some(v) => (v.clone(), false),
                None => match &var.default {
                    Some(d) => (d.clone(), false),
                    None if self.ex.env.validate_only => (Value::Unknown, false),
                    None => return Err(format!("The root module input variable {name:?} is not set, and has no default value.")),
                },
            },
            Some((parent, call_name, key)) => {
                let pm = self.ex.modules[&parent];
                let call = &pm.module_calls[&call_name];
                match call.inputs.get(name) {
                    None => (var.default.clone().unwrap_or(Value::Null), false),
                    Some(e) => {
                        let scope = StaticScope {
                            ex: self.ex,
                            path: parent.clone(),
                            module: pm,
                        };
                        let expansion = self.ex.out.of(&parent, &call_name);
                        self.nested(|| {
                            let mut ctx = EvalCtx::at_expr(&scope, e);
                            for (n, v) in instance_bindings(&key, Some(expansion)) {
                                ctx.bind(n, v);
                            }
                            let v = ctx.eval(&e.expr).map_err(message)?;
                            Ok((v, ctx.sensitive))
                        })?
                    }
                }
            }
        };
        let value = if raw.is_null() {
            raw
        } else {
            var.convert(&raw)
                .map_err(|m| format!("The given value is not suitable for var.{name}: {m}."))?
        };
        Ok(Resolved {
            value,
            sens: if sens || var.sensitive {
                Sens::All
            } else {
                Sens::No
            },
        })
    }

    fn local(&self, name: &str, target: &RefTarget) -> Result<Resolved, String> {
        let l = self
            .module
            .locals
            .get(name)
            .ok_or_else(|| format!("{} is not declared.", describe_target(target)))?;
        self.nested(|| {
            let mut ctx = EvalCtx::at_expr(self, &l.expr);
            let v = ctx.eval(&l.expr.expr).map_err(message)?;
            Ok(Resolved {
                value: v,
                sens: if ctx.sensitive { Sens::All } else { Sens::No },
            })
        })
    }
}

impl Scope for StaticScope<'_, '_> {
    fn resolve(&self, target: &RefTarget) -> Result<Resolved, String> {
        match target {
            RefTarget::Var(n) => self.var(n, target),
            RefTarget::Local(n) => self.local(n, target),
            RefTarget::Path => Ok(Resolved::plain(path_value(
                &self.module.dir,
                self.ex.root_dir,
            ))),
            RefTarget::Terraform => Ok(Resolved::plain(Value::map([(
                "workspace",
                Value::from(self.ex.env.workspace),
            )]))),
            other => Err(self.refuses(other).unwrap_or_default()),
        }
    }

    fn refuses(&self, target: &RefTarget) -> Option<String> {
        match target {
            RefTarget::Var(_) | RefTarget::Local(_) | RefTarget::Path | RefTarget::Terraform => None,
            other => Some(format!(
                "A module's count and for_each may refer to variables, locals and literals only, not to {}: Terrane expands module calls before it plans anything.",
                describe_target(other)
            )),
        }
    }

    fn module_dir(&self) -> std::path::PathBuf {
        self.module.dir.clone()
    }
}
