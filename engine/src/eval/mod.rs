//! Expression evaluation: HCL expressions to [`Value`]s, with unknown values propagating and
//! sensitivity tracked for whatever reads a secret.

mod body;
mod calls;
mod encoding;
mod functions;
mod ops;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::Span;
use terrane_core::{Diagnostic, Diagnostics, Value, ValueMap};

pub use body::{eval_body, BodyResult};

use crate::refs::{classify, RefTarget};
use crate::source::SourceFile;

/// How much of a resolved value is sensitive.
#[derive(Debug, Clone, Default)]
pub enum Sens {
    #[default]
    No,
    All,
    /// Only these top-level attributes of a resource object (or of each element of a list or
    /// map of resource objects).
    Attrs(Arc<BTreeSet<String>>),
}

#[derive(Clone)]
pub struct Resolved {
    pub value: Value,
    pub sens: Sens,
}

impl Resolved {
    pub fn plain(value: Value) -> Self {
        Resolved {
            value,
            sens: Sens::No,
        }
    }
}

/// Supplies the values of references. Implemented by the engine's graph walk.
pub trait Scope {
    fn resolve(&self, target: &RefTarget) -> Result<Resolved, String>;
    /// Why `target` may not be referred to here at all (an "Invalid reference", rather than
    /// one to something undeclared); `None` when it may.
    fn refuses(&self, _target: &RefTarget) -> Option<String> {
        None
    }
    /// Directory of the module being evaluated (`path.module`).
    fn module_dir(&self) -> std::path::PathBuf {
        std::path::PathBuf::from(".")
    }
}

/// A scope with nothing in it, for static values (defaults, tfvars).
pub struct EmptyScope;

impl Scope for EmptyScope {
    fn resolve(&self, target: &RefTarget) -> Result<Resolved, String> {
        Err(format!(
            "{} cannot be used here: only literal values and functions are allowed.",
            describe_target(target)
        ))
    }
}

pub fn describe_target(t: &RefTarget) -> String {
    match t {
        RefTarget::Var(n) => format!("var.{n}"),
        RefTarget::Local(n) => format!("local.{n}"),
        RefTarget::Module(m, Some(o)) => format!("module.{m}.{o}"),
        RefTarget::Module(m, None) => format!("module.{m}"),
        RefTarget::Resource(terrane_core::Mode::Data, t, n) => format!("data.{t}.{n}"),
        RefTarget::Resource(_, t, n) => format!("{t}.{n}"),
        RefTarget::Count => "count".into(),
        RefTarget::Each => "each".into(),
        RefTarget::Path => "path".into(),
        RefTarget::Terraform => "terraform".into(),
        RefTarget::SelfRef => "self".into(),
    }
}

/// Trims the whitespace at the end of a template's output so far (a `~` before a tag).
fn trim_end(out: &mut String) {
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
}

/// A value written as an HCL expression (strings quoted with their `${` escaped, objects a
/// line per attribute), for configuration that Terrane writes.
pub fn hcl_literal(v: &Value) -> String {
    let mut out = String::new();
    functions::terraform::expr(v, &mut out);
    out
}

/// Evaluates a literal expression (variable defaults, tfvars): functions yes, references no.
pub fn eval_static(e: &Expression, file: &SourceFile) -> Result<Value, Diagnostics> {
    eval_static_at(e, file, 0)
}

/// [`eval_static`] for an expression whose spans start at `offset` in `file`.
pub fn eval_static_at(
    e: &Expression,
    file: &SourceFile,
    offset: usize,
) -> Result<Value, Diagnostics> {
    let mut ctx = EvalCtx::new(&EmptyScope, file);
    ctx.offset = offset;
    ctx.eval(e).map_err(Diagnostics::from)
}

pub struct EvalCtx<'a> {
    pub scope: &'a dyn Scope,
    pub file: &'a SourceFile,
    bindings: Vec<(String, Value)>,
    /// Set when anything evaluated so far read a sensitive value.
    pub sensitive: bool,
    /// Added to spans: the position in `file` of a block that was parsed on its own.
    pub offset: usize,
    /// Rendering a `templatefile` or `templatestring`, which may not render another.
    in_template: bool,
}

pub type EvalResult = Result<Value, Diagnostic>;

impl<'a> EvalCtx<'a> {
    pub fn new(scope: &'a dyn Scope, file: &'a SourceFile) -> Self {
        EvalCtx {
            scope,
            file,
            bindings: Vec::new(),
            sensitive: false,
            offset: 0,
            in_template: false,
        }
    }

    /// A context for evaluating `e` (its file and position).
    pub fn at_expr(scope: &'a dyn Scope, e: &'a crate::config::Expr) -> Self {
        let mut ctx = EvalCtx::new(scope, &e.file);
        ctx.offset = e.offset;
        ctx
    }

    /// Binds a name (`count`, `each`, a `for` variable, a dynamic block iterator).
    pub fn bind(&mut self, name: &str, v: Value) {
        self.bindings.push((name.to_string(), v));
    }

    pub fn unbind(&mut self, n: usize) {
        for _ in 0..n {
            self.bindings.pop();
        }
    }

    fn binding(&self, name: &str) -> Option<&Value> {
        self.bindings
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    pub fn error(
        &self,
        span: Option<Range<usize>>,
        summary: &str,
        detail: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::error(summary, detail).with_range(span.map(|s| self.range(s)))
    }

    /// A span of the expression being evaluated as a file location.
    pub fn range(&self, s: Range<usize>) -> terrane_core::SourceRange {
        self.file.range(s.start + self.offset..s.end + self.offset)
    }

    /// Evaluates and converts to a string (for template interpolation and keys).
    fn string_of(
        &self,
        v: Value,
        span: Option<Range<usize>>,
        what: &str,
    ) -> Result<Option<String>, Diagnostic> {
        match v {
            Value::Unknown => Ok(None),
            Value::Null => Err(self.error(
                span,
                "Invalid template interpolation value",
                format!("The {what} is null; a null value cannot be used here."),
            )),
            ref other => other.to_template_string().map(Some).ok_or_else(|| {
                self.error(
                    span,
                    "Invalid template interpolation value",
                    format!(
                        "Cannot include a {} in a string ({what}).",
                        other.type_name()
                    ),
                )
            }),
        }
    }

    pub fn eval(&mut self, e: &Expression) -> EvalResult {
        match e {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => Ok(Value::Number(n.value().as_f64().unwrap_or(0.0))),
            Expression::String(s) => Ok(Value::String(s.value().clone())),
            Expression::Array(a) => Ok(Value::List(
                a.iter().map(|x| self.eval(x)).collect::<Result<_, _>>()?,
            )),
            Expression::Object(o) => {
                let mut m = ValueMap::new();
                for (k, v) in o.iter() {
                    let key = match k {
                        ObjectKey::Ident(i) => i.value().as_str().to_string(),
                        ObjectKey::Expression(Expression::Variable(i)) => {
                            i.value().as_str().to_string()
                        }
                        ObjectKey::Expression(ke) => {
                            let kv = self.eval(ke)?;
                            match self.string_of(kv, ke.span(), "object key")? {
                                Some(s) => s,
                                None => return Ok(Value::Unknown),
                            }
                        }
                    };
                    let val = self.eval(v.expr())?;
                    m.insert(key, val);
                }
                Ok(Value::Map(m))
            }
            Expression::StringTemplate(t) => self.template(t),
            Expression::HeredocTemplate(h) => self.template(&h.template),
            Expression::Parenthesis(p) => self.eval(p.inner()),
            Expression::Variable(v) => {
                self.traverse_root(v.value().as_str(), &[], v.span(), e.span())
            }
            Expression::Traversal(t) => {
                let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
                match &t.expr {
                    Expression::Variable(v) => {
                        self.traverse_root(v.value().as_str(), &ops, v.span(), t.span())
                    }
                    other => {
                        let base = self.eval(other)?;
                        self.apply_ops(base, &ops, t.span())
                    }
                }
            }
            Expression::Conditional(c) => {
                let cond = self.eval(&c.cond_expr)?;
                match cond {
                    Value::Bool(true) => self.eval(&c.true_expr),
                    Value::Bool(false) => self.eval(&c.false_expr),
                    Value::Unknown => {
                        // Still evaluate both sides for their errors and sensitivity.
                        self.eval(&c.true_expr)?;
                        self.eval(&c.false_expr)?;
                        Ok(Value::Unknown)
                    }
                    other => Err(self.error(
                        c.cond_expr.span(),
                        "Incorrect condition type",
                        format!(
                            "The condition expression must be a bool, got {}.",
                            other.type_name()
                        ),
                    )),
                }
            }
            Expression::FuncCall(f) => self.call(f),
            Expression::UnaryOp(u) => {
                let v = self.eval(&u.expr)?;
                ops::unary(*u.operator.value(), v)
                    .map_err(|m| self.error(e.span(), "Invalid operand", m))
            }
            Expression::BinaryOp(b) => {
                let op = *b.operator.value();
                let l = self.eval(&b.lhs_expr)?;
                // Short-circuit like HCL does for known booleans.
                use hcl_edit::expr::BinaryOperator as B;
                if op == B::And && l == Value::Bool(false) {
                    return Ok(Value::Bool(false));
                }
                if op == B::Or && l == Value::Bool(true) {
                    return Ok(Value::Bool(true));
                }
                let r = self.eval(&b.rhs_expr)?;
                ops::binary(op, l, r).map_err(|m| self.error(e.span(), "Invalid operand", m))
            }
            Expression::ForExpr(f) => self.for_expr(f),
        }
    }

    fn traverse_root(
        &mut self,
        root: &str,
        ops: &[&TraversalOperator],
        root_span: Option<Range<usize>>,
        full_span: Option<Range<usize>>,
    ) -> EvalResult {
        if let Some(v) = self.binding(root).cloned() {
            return self.apply_ops(v, ops, full_span);
        }
        let Some((target, used)) = classify(root, ops) else {
            return Err(self.error(
                full_span.or(root_span),
                "Invalid reference",
                format!("A reference to a resource type must be followed by at least one attribute access, specifying the resource name (\"{root}\" is not a known name here)."),
            ));
        };
        if matches!(
            target,
            RefTarget::Count | RefTarget::Each | RefTarget::SelfRef
        ) {
            return Err(self.error(
                root_span,
                &format!("Reference to \"{root}\" in wrong context"),
                format!("The \"{root}\" object can be used only in blocks that set the \"{root}\" argument."),
            ));
        }
        if let Some(m) = self.scope.refuses(&target) {
            return Err(self.error(full_span.clone(), "Invalid reference", m));
        }
        let resolved = self.scope.resolve(&target).map_err(|m| {
            let summary = match &target {
                RefTarget::Var(_) => "Reference to undeclared input variable",
                RefTarget::Local(_) => "Reference to undeclared local value",
                RefTarget::Module(..) => "Reference to undeclared module or output",
                RefTarget::Resource(..) => "Reference to undeclared resource",
                _ => "Invalid reference",
            };
            self.error(full_span.clone(), summary, m)
        })?;
        let rest = &ops[used..];
        match &resolved.sens {
            Sens::No => {}
            Sens::All => self.sensitive = true,
            Sens::Attrs(set) => {
                // The first attribute accessed after any index or splat decides.
                let first_attr = rest.iter().find_map(|o| match o {
                    TraversalOperator::GetAttr(i) => Some(i.value().as_str()),
                    _ => None,
                });
                match first_attr {
                    Some(a) if !set.contains(a) => {}
                    _ if set.is_empty() => {}
                    _ => self.sensitive = true,
                }
            }
        }
        self.apply_ops(resolved.value, rest, full_span)
    }

    fn apply_ops(
        &mut self,
        mut v: Value,
        ops: &[&TraversalOperator],
        span: Option<Range<usize>>,
    ) -> EvalResult {
        for (i, op) in ops.iter().enumerate() {
            if v.is_unknown() {
                // Still evaluate index expressions for their errors.
                for o in &ops[i..] {
                    if let TraversalOperator::Index(ie) = o {
                        self.eval(ie)?;
                    }
                }
                return Ok(Value::Unknown);
            }
            match op {
                TraversalOperator::GetAttr(name) => {
                    let name = name.value().as_str();
                    v = match v {
                        Value::Map(mut m) => match m.remove(name) {
                            Some(x) => x,
                            None => {
                                return Err(self.error(span, "Unsupported attribute", format!("This object does not have an attribute named {name:?}.")))
                            }
                        },
                        Value::Null => {
                            return Err(self.error(span, "Attempt to get attribute from null value", format!("This value is null, so it does not have any attribute named {name:?}.")))
                        }
                        Value::List(_) => {
                            return Err(self.error(span, "Unsupported attribute", format!("This value is a list, which has no attribute {name:?}. Did you mean to use an index such as [0] or a splat [*].{name}?")))
                        }
                        other => {
                            return Err(self.error(span, "Unsupported attribute", format!("Can't access attribute {name:?} on a {} value.", other.type_name())))
                        }
                    };
                }
                TraversalOperator::Index(ie) => {
                    let idx = self.eval(ie)?;
                    v = self.index(v, idx, ie.span())?;
                }
                TraversalOperator::LegacyIndex(n) => {
                    v = self.index(v, Value::Number(*n.value() as f64), span.clone())?;
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let items = match v {
                        Value::List(l) => l,
                        Value::Null => Vec::new(),
                        other => vec![other],
                    };
                    let rest = &ops[i + 1..];
                    let out = items
                        .into_iter()
                        .map(|item| self.apply_ops(item, rest, span.clone()))
                        .collect::<Result<Vec<_>, _>>()?;
                    return Ok(Value::List(out));
                }
            }
        }
        Ok(v)
    }

    fn index(&self, v: Value, idx: Value, span: Option<Range<usize>>) -> EvalResult {
        match (v, idx) {
            (_, Value::Unknown) | (Value::Unknown, _) => Ok(Value::Unknown),
            (Value::List(mut l), i) => {
                let n = match &i {
                    Value::Number(n) => *n,
                    Value::String(s) => s.parse::<f64>().map_err(|_| {
                        self.error(
                            span.clone(),
                            "Invalid index",
                            "A list index must be a number.",
                        )
                    })?,
                    _ => {
                        return Err(self.error(
                            span,
                            "Invalid index",
                            "A list index must be a number.",
                        ))
                    }
                };
                if n < 0.0 || n.fract() != 0.0 || n as usize >= l.len() {
                    return Err(self.error(span, "Invalid index", format!("The given key does not identify an element in this collection value: index {} out of range for a list of {} elements.", terrane_core::value::format_number(n), l.len())));
                }
                Ok(l.swap_remove(n as usize))
            }
            (Value::Map(mut m), i) => {
                let key = i.to_template_string().ok_or_else(|| {
                    self.error(span.clone(), "Invalid index", "A map key must be a string.")
                })?;
                m.remove(&key).ok_or_else(|| self.error(span, "Invalid index", format!("The given key does not identify an element in this collection value: {key:?} is not a key of this map.")))
            }
            (Value::Null, _) => Err(self.error(
                span,
                "Attempt to index null value",
                "This value is null, so it does not have any indices.",
            )),
            (other, _) => Err(self.error(
                span,
                "Invalid index",
                format!(
                    "This value does not have any indices ({}).",
                    other.type_name()
                ),
            )),
        }
    }

    fn template(&mut self, t: &Template) -> EvalResult {
        // A template that is a single interpolation yields the value itself, not a string.
        if let Some(Element::Interpolation(i)) = t.as_single_element() {
            return self.eval(&i.expr);
        }
        let mut out = String::new();
        let mut unknown = false;
        self.template_into(t, &mut out, &mut unknown, &mut false)?;
        Ok(if unknown {
            Value::Unknown
        } else {
            Value::String(out)
        })
    }

    fn template_into(
        &mut self,
        t: &Template,
        out: &mut String,
        unknown: &mut bool,
        strip_next: &mut bool,
    ) -> Result<(), Diagnostic> {
        for el in t.iter() {
            match el {
                Element::Literal(s) => {
                    if *strip_next {
                        out.push_str(s.value().trim_start());
                    } else {
                        out.push_str(s.value());
                    }
                    *strip_next = false;
                }
                Element::Interpolation(i) => {
                    if i.strip.strip_start() {
                        let trimmed = out.trim_end().len();
                        out.truncate(trimmed);
                    }
                    let v = self.eval(&i.expr)?;
                    match self.string_of(v, i.expr.span(), "interpolated value")? {
                        Some(s) => out.push_str(&s),
                        None => *unknown = true,
                    }
                    *strip_next = i.strip.strip_end();
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(iff) => {
                        // `~` beside a tag trims the whitespace of the literal text next to it.
                        if iff.if_expr.strip.strip_start() {
                            trim_end(out);
                        }
                        let c = self.eval(&iff.if_expr.cond_expr)?;
                        let branch = |this: &mut Self,
                                      out: &mut String,
                                      unknown: &mut bool,
                                      strip_next: &mut bool,
                                      t: &Template,
                                      open: bool,
                                      close: bool| {
                            *strip_next = open;
                            this.template_into(t, out, unknown, strip_next)?;
                            if close {
                                trim_end(out);
                            }
                            Ok::<(), Diagnostic>(())
                        };
                        let else_start = iff
                            .else_expr
                            .as_ref()
                            .is_some_and(|e| e.strip.strip_start());
                        let endif_start = iff.endif_expr.strip.strip_start();
                        match c {
                            Value::Bool(true) => branch(
                                self,
                                out,
                                unknown,
                                strip_next,
                                &iff.if_expr.template,
                                iff.if_expr.strip.strip_end(),
                                if iff.else_expr.is_some() {
                                    else_start
                                } else {
                                    endif_start
                                },
                            )?,
                            Value::Bool(false) => {
                                if let Some(e) = &iff.else_expr {
                                    branch(
                                        self,
                                        out,
                                        unknown,
                                        strip_next,
                                        &e.template,
                                        e.strip.strip_end(),
                                        endif_start,
                                    )?;
                                }
                            }
                            Value::Unknown => *unknown = true,
                            other => {
                                return Err(self.error(
                                    iff.if_expr.cond_expr.span(),
                                    "Incorrect condition type",
                                    format!(
                                        "The condition must be a bool, got {}.",
                                        other.type_name()
                                    ),
                                ))
                            }
                        }
                        *strip_next = iff.endif_expr.strip.strip_end();
                    }
                    Directive::For(f) => {
                        if f.for_expr.strip.strip_start() {
                            trim_end(out);
                        }
                        let coll = self.eval(&f.for_expr.collection_expr)?;
                        let pairs =
                            match self.iter_pairs(coll, f.for_expr.collection_expr.span())? {
                                Some(p) => p,
                                None => {
                                    *unknown = true;
                                    continue;
                                }
                            };
                        for (k, v) in pairs {
                            let mut n = 1;
                            if let Some(kv) = &f.for_expr.key_var {
                                self.bind(kv.value().as_str(), k);
                                n += 1;
                            }
                            self.bind(f.for_expr.value_var.value().as_str(), v);
                            *strip_next = f.for_expr.strip.strip_end();
                            let r =
                                self.template_into(&f.for_expr.template, out, unknown, strip_next);
                            self.unbind(n);
                            r?;
                            if f.endfor_expr.strip.strip_start() {
                                trim_end(out);
                            }
                        }
                        *strip_next = f.endfor_expr.strip.strip_end();
                    }
                },
            }
        }
        Ok(())
    }

    /// (key, value) pairs of a collection, `None` when unknown.
    fn iter_pairs(
        &self,
        coll: Value,
        span: Option<Range<usize>>,
    ) -> Result<Option<Vec<(Value, Value)>>, Diagnostic> {
        match coll {
            Value::Unknown => Ok(None),
            Value::List(l) => Ok(Some(
                l.into_iter()
                    .enumerate()
                    .map(|(i, v)| (Value::Number(i as f64), v))
                    .collect(),
            )),
            Value::Map(m) => Ok(Some(
                m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
            )),
            Value::Null => Err(self.error(
                span,
                "Iteration over null value",
                "A null value cannot be used as the collection in a 'for' expression.",
            )),
            other => Err(self.error(
                span,
                "Iteration over non-iterable value",
                format!("A {} cannot be iterated.", other.type_name()),
            )),
        }
    }

    fn for_expr(&mut self, f: &hcl_edit::expr::ForExpr) -> EvalResult {
        let coll = self.eval(&f.intro.collection_expr)?;
        let Some(pairs) = self.iter_pairs(coll, f.intro.collection_expr.span())? else {
            return Ok(Value::Unknown);
        };
        let mut list = Vec::new();
        let mut map = ValueMap::new();
        let mut grouped: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut unknown = false;
        for (k, v) in pairs {
            let mut n = 1;
            if let Some(kv) = &f.intro.key_var {
                self.bind(kv.value().as_str(), k);
                n += 1;
            }
            self.bind(f.intro.value_var.value().as_str(), v);
            let r = (|| -> Result<(), Diagnostic> {
                if let Some(c) = &f.cond {
                    match self.eval(&c.expr)? {
                        Value::Bool(true) => {}
                        Value::Bool(false) => return Ok(()),
                        Value::Unknown => {
                            unknown = true;
                            return Ok(());
                        }
                        other => {
                            return Err(self.error(
                                c.expr.span(),
                                "Invalid 'for' condition",
                                format!(
                                    "The 'if' clause must be a bool, got {}.",
                                    other.type_name()
                                ),
                            ))
                        }
                    }
                }
                let val = self.eval(&f.value_expr)?;
                match &f.key_expr {
                    None => list.push(val),
                    Some(ke) => {
                        let kv = self.eval(ke)?;
                        match self.string_of(kv, ke.span(), "object key")? {
                            None => unknown = true,
                            Some(key) if f.grouping => grouped.entry(key).or_default().push(val),
                            Some(key) => {
                                if map.contains_key(&key) {
                                    return Err(self.error(ke.span(), "Duplicate object key", format!("Two different items produced the key {key:?} in this 'for' expression. Use the grouping mode (...) if duplicates are expected.")));
                                }
                                map.insert(key, val);
                            }
                        }
                    }
                }
                Ok(())
            })();
            self.unbind(n);
            r?;
        }
        if unknown {
            return Ok(Value::Unknown);
        }
        Ok(match (&f.key_expr, f.grouping) {
            (None, _) => Value::List(list),
            (Some(_), false) => Value::Map(map),
            (Some(_), true) => Value::Map(
                grouped
                    .into_iter()
                    .map(|(k, v)| (k, Value::List(v)))
                    .collect(),
            ),
        })
    }
}

#[cfg(test)]
mod tests;
