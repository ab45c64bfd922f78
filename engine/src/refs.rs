//! Finding the references (`var.x`, `local.y`, `aws_vpc.main.id`, `module.net.vpc_id`, ...) in
//! expressions, respecting names bound by `for` expressions and `dynamic` block iterators.

use std::ops::Range;

use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Body, Structure};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::Span;
use terrane_core::Mode;

/// What a reference points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefTarget {
    Var(String),
    Local(String),
    /// `module.NAME` or `module.NAME.OUTPUT`.
    Module(String, Option<String>),
    Resource(Mode, String, String),
    Count,
    Each,
    Path,
    Terraform,
    SelfRef,
}

#[derive(Debug, Clone)]
pub struct Ref {
    pub target: RefTarget,
    pub span: Option<Range<usize>>,
}

fn attr_name(op: &TraversalOperator) -> Option<&str> {
    match op {
        TraversalOperator::GetAttr(i) => Some(i.value().as_str()),
        _ => None,
    }
}

/// Classifies the root of a traversal. Returns the target and how many operators it used.
pub fn classify(root: &str, ops: &[&TraversalOperator]) -> Option<(RefTarget, usize)> {
    let a = |i: usize| ops.get(i).and_then(|o| attr_name(o)).map(str::to_string);
    Some(match root {
        "var" => (RefTarget::Var(a(0)?), 1),
        "local" => (RefTarget::Local(a(0)?), 1),
        "module" => {
            let name = a(0)?;
            match a(1) {
                Some(out) => (RefTarget::Module(name, Some(out)), 2),
                None => (RefTarget::Module(name, None), 1),
            }
        }
        "data" => (RefTarget::Resource(Mode::Data, a(0)?, a(1)?), 2),
        "count" => (RefTarget::Count, 0),
        "each" => (RefTarget::Each, 0),
        "path" => (RefTarget::Path, 0),
        "terraform" => (RefTarget::Terraform, 0),
        "self" => (RefTarget::SelfRef, 0),
        ty => (RefTarget::Resource(Mode::Managed, ty.to_string(), a(0)?), 1),
    })
}

/// For `aws.west` style references: the plain names of a traversal made only of attributes.
pub fn traversal_names(e: &Expression) -> Option<Vec<String>> {
    match e {
        Expression::Variable(v) => Some(vec![v.value().as_str().to_string()]),
        Expression::Traversal(t) => {
            let mut names = traversal_names(&t.expr)?;
            for op in &t.operators {
                names.push(attr_name(op.value())?.to_string());
            }
            Some(names)
        }
        _ => None,
    }
}

/// Collects references.
#[derive(Default)]
pub struct RefCollector {
    bound: Vec<String>,
    pub refs: Vec<Ref>,
}

impl RefCollector {
    pub fn new() -> Self {
        RefCollector::default()
    }

    pub fn bind(&mut self, name: &str) {
        self.bound.push(name.to_string());
    }

    fn is_bound(&self, name: &str) -> bool {
        self.bound.iter().any(|b| b == name)
    }

    pub fn expr(&mut self, e: &Expression) {
        match e {
            Expression::Null(_)
            | Expression::Bool(_)
            | Expression::Number(_)
            | Expression::String(_) => {}
            Expression::Array(a) => a.iter().for_each(|x| self.expr(x)),
            Expression::Object(o) => {
                for (k, v) in o.iter() {
                    if let hcl_edit::expr::ObjectKey::Expression(ke) = k {
                        // A bare identifier key is a literal, not a reference.
                        if !matches!(ke, Expression::Variable(_)) {
                            self.expr(ke);
                        }
                    }
                    self.expr(v.expr());
                }
            }
            Expression::StringTemplate(t) => self.template(t),
            Expression::HeredocTemplate(h) => self.template(&h.template),
            Expression::Parenthesis(p) => self.expr(p.inner()),
            Expression::Variable(v) => {
                let name = v.value().as_str();
                if !self.is_bound(name) {
                    if let Some((target, _)) = classify(name, &[]) {
                        self.refs.push(Ref {
                            target,
                            span: v.span(),
                        });
                    }
                }
            }
            Expression::Conditional(c) => {
                self.expr(&c.cond_expr);
                self.expr(&c.true_expr);
                self.expr(&c.false_expr);
            }
            Expression::FuncCall(f) => f.args.iter().for_each(|x| self.expr(x)),
            Expression::Traversal(t) => {
                for op in &t.operators {
                    if let TraversalOperator::Index(ie) = op.value() {
                        self.expr(ie);
                    }
                }
                if let Expression::Variable(v) = &t.expr {
                    let name = v.value().as_str();
                    if self.is_bound(name) {
                        return;
                    }
                    let ops: Vec<&TraversalOperator> =
                        t.operators.iter().map(|o| o.value()).collect();
                    if let Some((target, _)) = classify(name, &ops) {
                        self.refs.push(Ref {
                            target,
                            span: t.span(),
                        });
                    }
                } else {
                    self.expr(&t.expr);
                }
            }
            Expression::UnaryOp(u) => self.expr(&u.expr),
            Expression::BinaryOp(b) => {
                self.expr(&b.lhs_expr);
                self.expr(&b.rhs_expr);
            }
            Expression::ForExpr(f) => {
                self.expr(&f.intro.collection_expr);
                let n = self.bound.len();
                if let Some(k) = &f.intro.key_var {
                    self.bind(k.value().as_str());
                }
                self.bind(f.intro.value_var.value().as_str());
                if let Some(k) = &f.key_expr {
                    self.expr(k);
                }
                self.expr(&f.value_expr);
                if let Some(c) = &f.cond {
                    self.expr(&c.expr);
                }
                self.bound.truncate(n);
            }
        }
    }

    fn template(&mut self, t: &Template) {
        for el in t.iter() {
            match el {
                Element::Literal(_) => {}
                Element::Interpolation(i) => self.expr(&i.expr),
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(i) => {
                        self.expr(&i.if_expr.cond_expr);
                        self.template(&i.if_expr.template);
                        if let Some(e) = &i.else_expr {
                            self.template(&e.template);
                        }
                    }
                    Directive::For(f) => {
                        self.expr(&f.for_expr.collection_expr);
                        let n = self.bound.len();
                        if let Some(k) = &f.for_expr.key_var {
                            self.bind(k.value().as_str());
                        }
                        self.bind(f.for_expr.value_var.value().as_str());
                        self.template(&f.for_expr.template);
                        self.bound.truncate(n);
                    }
                },
            }
        }
    }

    /// References in a resource body, skipping the given top-level attributes (meta-arguments
    /// handled elsewhere) and binding `dynamic` block iterators.
    pub fn body(&mut self, body: &Body, skip: &[&str]) {
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    if !skip.contains(&a.key.value().as_str()) {
                        self.expr(&a.value);
                    }
                }
                Structure::Block(b) => {
                    let ident = b.ident.value().as_str();
                    if skip.contains(&ident) {
                        continue;
                    }
                    if ident == "dynamic" {
                        let label = b
                            .labels
                            .first()
                            .map(|l| l.as_str().to_string())
                            .unwrap_or_default();
                        let iter_name = b
                            .body
                            .get_attribute("iterator")
                            .and_then(|a| traversal_names(&a.value))
                            .and_then(|n| n.into_iter().next())
                            .unwrap_or(label);
                        if let Some(fe) = b.body.get_attribute("for_each") {
                            self.expr(&fe.value);
                        }
                        let n = self.bound.len();
                        self.bind(&iter_name);
                        for cb in b.body.blocks() {
                            if cb.ident.value().as_str() == "content" {
                                self.body(&cb.body, &[]);
                            }
                        }
                        self.bound.truncate(n);
                    } else {
                        self.body(&b.body, &[]);
                    }
                }
            }
        }
    }
}

/// References of one expression.
pub fn expr_refs(e: &Expression) -> Vec<Ref> {
    let mut c = RefCollector::new();
    c.expr(e);
    c.refs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(src: &str) -> Vec<RefTarget> {
        let e = hcl_edit::parser::parse_expr(src).unwrap();
        expr_refs(&e).into_iter().map(|r| r.target).collect()
    }

    #[test]
    fn finds_references_and_respects_for_scopes() {
        assert_eq!(
            targets("\"${var.a}-${local.b}\""),
            vec![RefTarget::Var("a".into()), RefTarget::Local("b".into())]
        );
        assert_eq!(
            targets("[for s in aws_subnet.x : s.id if s.id != module.m.o]"),
            vec![
                RefTarget::Resource(Mode::Managed, "aws_subnet".into(), "x".into()),
                RefTarget::Module("m".into(), Some("o".into())),
            ]
        );
        assert_eq!(
            targets("data.aws_region.cur.name"),
            vec![RefTarget::Resource(
                Mode::Data,
                "aws_region".into(),
                "cur".into()
            )]
        );
        assert_eq!(targets("x[count.index]"), vec![RefTarget::Count]);
    }
}
