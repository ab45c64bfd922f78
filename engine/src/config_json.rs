//! The `configuration` of Terraform's JSON plan format: every module's resources, outputs,
//! variables and module calls, each argument as its `constant_value` when it refers to
//! nothing, or the `references` it makes (`terraform_data.a.output`, then `terraform_data.a`),
//! as Terraform writes them for policy checks and cost tools that follow references.

use std::collections::BTreeSet;

use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Body, Structure};
use hcl_edit::template::{Directive, Element, Template};
use serde_json::{json, Map, Value as J};
use terrane_core::Mode;

use crate::config::{implied_provider, Config, Expr, ModuleConfig};
use crate::eval::eval_static;
use crate::source::SourceFile;

/// Block types inside a resource that are not its arguments.
const META_BLOCKS: &[&str] = &["lifecycle", "provisioner", "connection"];
const META_ARGS: &[&str] = &["count", "for_each", "depends_on", "provider"];

pub fn configuration_json(config: &Config) -> J {
    let mut providers = BTreeSet::new();
    let root = module(&config.root, &mut providers);
    let provider_config: Map<String, J> = providers
        .into_iter()
        .map(|name| {
            let full = if name == "terraform" {
                "terraform.io/builtin/terraform".to_string()
            } else {
                format!("registry.terraform.io/hashicorp/{name}")
            };
            (name.clone(), json!({"name": name, "full_name": full}))
        })
        .collect();
    json!({"provider_config": provider_config, "root_module": root})
}

fn module(m: &ModuleConfig, providers: &mut BTreeSet<String>) -> J {
    let mut out = Map::new();
    let outputs: Map<String, J> = m
        .outputs
        .iter()
        .map(|(name, o)| {
            let mut j = Map::new();
            if o.sensitive {
                j.insert("sensitive".into(), true.into());
            }
            j.insert("expression".into(), expression_of(&o.expr));
            if let Some(d) = &o.description {
                j.insert("description".into(), d.clone().into());
            }
            (name.clone(), J::Object(j))
        })
        .collect();
    if !outputs.is_empty() {
        out.insert("outputs".into(), outputs.into());
    }
    let mut resources = Vec::new();
    for r in m.resources.values() {
        let provider = match &r.provider {
            Some((name, Some(alias))) => format!("{name}.{alias}"),
            Some((name, None)) => name.clone(),
            None => implied_provider(&r.ty).to_string(),
        };
        providers.insert(provider.split('.').next().unwrap_or_default().to_string());
        let parsed = r.parse();
        let file = SourceFile::new(r.file.name.clone(), parsed_text(r));
        let mut j = Map::new();
        let prefix = if r.mode == Mode::Data { "data." } else { "" };
        j.insert(
            "address".into(),
            format!("{prefix}{}.{}", r.ty, r.name).into(),
        );
        j.insert(
            "mode".into(),
            if r.mode == Mode::Data {
                "data"
            } else {
                "managed"
            }
            .into(),
        );
        j.insert("type".into(), r.ty.clone().into());
        j.insert("name".into(), r.name.clone().into());
        j.insert("provider_config_key".into(), provider.into());
        j.insert(
            "expressions".into(),
            body_expressions(&parsed.block.body, &file, true),
        );
        j.insert("schema_version".into(), 0.into());
        for (arg, key) in [
            ("count", "count_expression"),
            ("for_each", "for_each_expression"),
        ] {
            if let Some(e) = attribute(&parsed.block.body, arg) {
                let refs = references(e);
                if !refs.is_empty() {
                    j.insert(key.into(), json!({ "references": refs }));
                }
            }
        }
        if let Some(Expression::Array(a)) = attribute(&parsed.block.body, "depends_on") {
            let deps: Vec<J> = a
                .iter()
                .filter_map(|e| traversal_text(e).map(J::String))
                .collect();
            j.insert("depends_on".into(), deps.into());
        }
        resources.push(J::Object(j));
    }
    if !resources.is_empty() {
        out.insert("resources".into(), resources.into());
    }
    let calls: Map<String, J> = m
        .module_calls
        .iter()
        .map(|(name, c)| {
            let mut j = Map::new();
            j.insert("source".into(), c.source.clone().into());
            let exprs: Map<String, J> = c
                .inputs
                .iter()
                .map(|(k, e)| (k.clone(), expression_of(e)))
                .collect();
            if !exprs.is_empty() {
                j.insert("expressions".into(), exprs.into());
            }
            for (e, key) in [
                (&c.count, "count_expression"),
                (&c.for_each, "for_each_expression"),
            ] {
                if let Some(e) = e {
                    j.insert(key.into(), expression_of(e));
                }
            }
            j.insert("module".into(), module(&c.child, providers));
            (name.clone(), J::Object(j))
        })
        .collect();
    if !calls.is_empty() {
        out.insert("module_calls".into(), calls.into());
    }
    let vars: Map<String, J> = m
        .variables
        .iter()
        .map(|(name, v)| {
            let mut j = Map::new();
            if let Some(d) = &v.default {
                j.insert("default".into(), d.to_json());
            }
            if let Some(d) = &v.description {
                j.insert("description".into(), d.clone().into());
            }
            if v.sensitive {
                j.insert("sensitive".into(), true.into());
            }
            (name.clone(), J::Object(j))
        })
        .collect();
    if !vars.is_empty() {
        out.insert("variables".into(), vars.into());
    }
    J::Object(out)
}

/// The text a resource's parsed block spans refer to.
fn parsed_text(r: &crate::config::ResourceConfig) -> String {
    r.file.text[r.span.clone()].to_string()
}

fn attribute<'b>(body: &'b Body, name: &str) -> Option<&'b Expression> {
    body.iter().find_map(|s| match s {
        Structure::Attribute(a) if a.key.value().as_str() == name => Some(&a.value),
        _ => None,
    })
}

/// A body's arguments and nested blocks (as lists of their own expressions).
fn body_expressions(body: &Body, file: &SourceFile, top: bool) -> J {
    let mut out = Map::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let k = a.key.value().as_str();
                if top && META_ARGS.contains(&k) {
                    continue;
                }
                out.insert(k.to_string(), expression(&a.value, file));
            }
            Structure::Block(b) => {
                let k = b.ident.value().as_str();
                if top && META_BLOCKS.contains(&k) {
                    continue;
                }
                let entry = out.entry(k.to_string()).or_insert_with(|| J::Array(vec![]));
                if let J::Array(items) = entry {
                    items.push(body_expressions(&b.body, file, false));
                }
            }
        }
    }
    J::Object(out)
}

fn expression_of(e: &Expr) -> J {
    expression(&e.expr, &e.file)
}

/// `{"references": [...]}`, or `{"constant_value": v}` for an expression that refers to
/// nothing.
fn expression(e: &Expression, file: &SourceFile) -> J {
    let refs = references(e);
    if !refs.is_empty() {
        return json!({ "references": refs });
    }
    match eval_static(e, file) {
        Ok(v) => json!({ "constant_value": v.to_json() }),
        Err(_) => json!({}),
    }
}

/// The references of an expression, in order, each as Terraform lists them: the whole
/// static traversal, then the object it starts from (and a resource without its key).
fn references(e: &Expression) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut bound: Vec<String> = Vec::new();
    visit(e, &mut bound, &mut out);
    out
}

fn push(out: &mut Vec<String>, s: String) {
    if !out.contains(&s) {
        out.push(s);
    }
}

fn visit(e: &Expression, bound: &mut Vec<String>, out: &mut Vec<String>) {
    match e {
        Expression::Array(a) => a.iter().for_each(|x| visit(x, bound, out)),
        Expression::Object(o) => {
            for (k, v) in o.iter() {
                if let ObjectKey::Expression(ke) = k {
                    if !matches!(ke, Expression::Variable(_)) {
                        visit(ke, bound, out);
                    }
                }
                visit(v.expr(), bound, out);
            }
        }
        Expression::StringTemplate(t) => template(t, bound, out),
        Expression::HeredocTemplate(h) => template(&h.template, bound, out),
        Expression::Parenthesis(p) => visit(p.inner(), bound, out),
        Expression::Variable(v) => reference(v.value().as_str(), &[], bound, out),
        Expression::Traversal(t) => {
            let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
            match &t.expr {
                Expression::Variable(v) => reference(v.value().as_str(), &ops, bound, out),
                other => visit(other, bound, out),
            }
            for op in &ops {
                if let TraversalOperator::Index(ie) = op {
                    visit(ie, bound, out);
                }
            }
        }
        Expression::Conditional(c) => {
            visit(&c.cond_expr, bound, out);
            visit(&c.true_expr, bound, out);
            visit(&c.false_expr, bound, out);
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|x| visit(x, bound, out)),
        Expression::UnaryOp(u) => visit(&u.expr, bound, out),
        Expression::BinaryOp(b) => {
            visit(&b.lhs_expr, bound, out);
            visit(&b.rhs_expr, bound, out);
        }
        Expression::ForExpr(f) => {
            visit(&f.intro.collection_expr, bound, out);
            let n = bound.len();
            if let Some(k) = &f.intro.key_var {
                bound.push(k.value().as_str().to_string());
            }
            bound.push(f.intro.value_var.value().as_str().to_string());
            if let Some(k) = &f.key_expr {
                visit(k, bound, out);
            }
            visit(&f.value_expr, bound, out);
            if let Some(c) = &f.cond {
                visit(&c.expr, bound, out);
            }
            bound.truncate(n);
        }
        _ => {}
    }
}

fn template(t: &Template, bound: &mut Vec<String>, out: &mut Vec<String>) {
    for el in t.iter() {
        match el {
            Element::Interpolation(i) => visit(&i.expr, bound, out),
            Element::Directive(d) => match d.as_ref() {
                Directive::If(i) => {
                    visit(&i.if_expr.cond_expr, bound, out);
                    template(&i.if_expr.template, bound, out);
                    if let Some(e) = &i.else_expr {
                        template(&e.template, bound, out);
                    }
                }
                Directive::For(f) => {
                    visit(&f.for_expr.collection_expr, bound, out);
                    let n = bound.len();
                    if let Some(k) = &f.for_expr.key_var {
                        bound.push(k.value().as_str().to_string());
                    }
                    bound.push(f.for_expr.value_var.value().as_str().to_string());
                    template(&f.for_expr.template, bound, out);
                    bound.truncate(n);
                }
            },
            Element::Literal(_) => {}
        }
    }
}

/// One traversal: its static part as text, and the steps Terraform lists.
fn reference(root: &str, ops: &[&TraversalOperator], bound: &[String], out: &mut Vec<String>) {
    if bound.iter().any(|b| b == root) || root == "self" {
        return;
    }
    // The static steps: attributes and literal indexes, up to the first dynamic one.
    let mut steps: Vec<String> = Vec::new();
    for op in ops {
        match op {
            TraversalOperator::GetAttr(n) => steps.push(format!(".{}", n.value().as_str())),
            TraversalOperator::LegacyIndex(i) => steps.push(format!("[{}]", i.value())),
            TraversalOperator::Index(Expression::Number(n)) => {
                steps.push(format!("[{}]", n.value()))
            }
            TraversalOperator::Index(Expression::String(s)) => steps.push(format!(
                "[{}]",
                serde_json::Value::String(s.value().clone())
            )),
            _ => break,
        }
    }
    let is_index = |s: &String| s.starts_with('[');
    // How many steps name the object referred to (the subject), and its base without a key.
    let (subject, base): (usize, Option<usize>) = match root {
        "var" | "local" | "each" | "count" | "path" | "terraform" => (1, None),
        "module" => {
            let keyed = steps.get(1).is_some_and(is_index);
            if keyed {
                (3, Some(1))
            } else {
                (2, Some(1))
            }
        }
        "data" => {
            if steps.get(2).is_some_and(is_index) {
                (3, Some(2))
            } else {
                (2, None)
            }
        }
        _ => {
            if steps.first().is_some_and(is_index) || steps.is_empty() {
                return;
            }
            if steps.get(1).is_some_and(is_index) {
                (2, Some(1))
            } else {
                (1, None)
            }
        }
    };
    if steps.len() < subject {
        return;
    }
    let text = |n: usize| format!("{root}{}", steps[..n].concat());
    push(out, text(steps.len()));
    push(out, text(subject));
    if let Some(b) = base {
        push(out, text(b));
    }
}

/// `depends_on` entries as written.
fn traversal_text(e: &Expression) -> Option<String> {
    let mut out = Vec::new();
    match e {
        Expression::Traversal(t) => {
            let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
            if let Expression::Variable(v) = &t.expr {
                reference(v.value().as_str(), &ops, &[], &mut out);
            }
        }
        Expression::Variable(v) => reference(v.value().as_str(), &[], &[], &mut out),
        _ => {}
    }
    out.into_iter().next()
}
