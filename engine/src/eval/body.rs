//! Evaluating a resource (or provider) body against its schema: attributes converted to their
//! types, nested and `dynamic` blocks expanded, unknown and missing arguments reported.

use std::collections::{BTreeMap, BTreeSet};

use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span;
use terrane_core::schema::dedup_set;
use terrane_core::{
    Diagnostic, Diagnostics, Nesting, ResourceSchema, SourceRange, Value, ValueMap,
};

use super::EvalCtx;
use crate::config::META_ARGS;
use crate::refs::traversal_names;

pub struct BodyResult {
    pub value: Value,
    /// Top-level attributes and blocks whose value came from something sensitive.
    pub sensitive: BTreeSet<String>,
    pub diags: Diagnostics,
}

/// Evaluates `body` as an object of `schema`. `header` gives where "missing argument" points
/// (worked out only for an error: a plan evaluates 100,000 bodies that have none).
pub fn eval_body(
    ctx: &mut EvalCtx,
    body: &Body,
    schema: &ResourceSchema,
    header: &dyn Fn() -> Option<SourceRange>,
    top_level: bool,
) -> BodyResult {
    let mut out = BodyResult {
        value: Value::Null,
        sensitive: BTreeSet::new(),
        diags: Diagnostics::new(),
    };
    let mut obj = ValueMap::new();
    let mut blocks: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut unknown_blocks: BTreeSet<String> = BTreeSet::new();
    let skip: &[&str] = if top_level { META_ARGS } else { &[] };
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let key = a.key.value().as_str();
                if skip.contains(&key) || (top_level && key == "alias") {
                    continue;
                }
                let Some(attr) = schema.attributes.get(key) else {
                    // JSON syntax writes nested blocks as arguments: an object is one block,
                    // an array of objects several.
                    if let (Some(bs), true) =
                        (schema.blocks.get(key), ctx.file.name.ends_with(".tf.json"))
                    {
                        match ctx.eval(&a.value) {
                            Ok(v) => {
                                let items = match v {
                                    Value::List(l) => l,
                                    Value::Null => Vec::new(),
                                    other => vec![other],
                                };
                                for item in items {
                                    match block_value(&item, &bs.schema) {
                                        Ok(bv) => {
                                            blocks.entry(key.to_string()).or_default().push(bv)
                                        }
                                        Err(m) => out.diags.push(ctx.error(
                                            a.value.span(),
                                            "Invalid block",
                                            format!("{key}: {m}"),
                                        )),
                                    }
                                }
                            }
                            Err(d) => out.diags.push(d),
                        }
                        continue;
                    }
                    if let Some(m) = schema.not_yet_message(key) {
                        out.diags
                            .push(ctx.error(a.key.span(), "Argument not supported yet", m));
                        continue;
                    }
                    let hint = if schema.blocks.contains_key(key) {
                        format!(" Did you mean to define a block of type {key:?}?")
                    } else {
                        String::new()
                    };
                    out.diags.push(ctx.error(
                        a.key.span(),
                        "Unsupported argument",
                        format!("An argument named {key:?} is not expected here.{hint}"),
                    ));
                    continue;
                };
                if attr.computed && !attr.optional && !attr.required {
                    out.diags.push(ctx.error(a.key.span(), "Invalid argument", format!("{key:?} is computed by the provider and cannot be set in configuration.")));
                    continue;
                }
                let before = ctx.sensitive;
                ctx.sensitive = false;
                match ctx.eval(&a.value) {
                    Ok(v) => match attr.ty.convert(&v) {
                        Ok(cv) => {
                            obj.insert(key.to_string(), cv);
                        }
                        Err(m) => out.diags.push(ctx.error(
                            a.value.span(),
                            "Incorrect attribute value type",
                            format!("Inappropriate value for attribute {key:?}: {m}."),
                        )),
                    },
                    Err(d) => out.diags.push(d),
                }
                if ctx.sensitive {
                    out.sensitive.insert(key.to_string());
                }
                ctx.sensitive = before || ctx.sensitive;
            }
            Structure::Block(b) => {
                let ident = b.ident.value().as_str();
                if top_level && skip.contains(&ident) {
                    continue;
                }
                let before = ctx.sensitive;
                ctx.sensitive = false;
                if ident == "dynamic" {
                    dynamic_block(
                        ctx,
                        b,
                        schema,
                        &mut blocks,
                        &mut unknown_blocks,
                        &mut out.diags,
                    );
                    if ctx.sensitive {
                        if let Some(l) = b.labels.first() {
                            out.sensitive.insert(l.as_str().to_string());
                        }
                    }
                } else {
                    let Some(bs) = schema.blocks.get(ident) else {
                        if let Some(m) = schema.not_yet_message(ident) {
                            out.diags
                                .push(ctx.error(b.ident.span(), "Block not supported yet", m));
                            continue;
                        }
                        out.diags.push(ctx.error(
                            b.ident.span(),
                            "Unsupported block type",
                            format!("Blocks of type {ident:?} are not expected here."),
                        ));
                        continue;
                    };
                    let (file, off, span) = (ctx.file, ctx.offset, b.ident.span());
                    let hr = move || span.clone().map(|s| file.range(s.start + off..s.end + off));
                    let r = eval_body(ctx, &b.body, &bs.schema, &hr, false);
                    out.diags.extend(r.diags);
                    blocks.entry(ident.to_string()).or_default().push(r.value);
                    if ctx.sensitive {
                        out.sensitive.insert(ident.to_string());
                    }
                }
                ctx.sensitive = before || ctx.sensitive;
            }
        }
    }
    for (name, attr) in &schema.attributes {
        if attr.required && !obj.contains_key(name) {
            out.diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    format!("The argument {name:?} is required, but no definition was found."),
                )
                .with_range(header()),
            );
        }
        obj.entry(name.clone()).or_insert(Value::Null);
    }
    for (name, bs) in &schema.blocks {
        if unknown_blocks.contains(name) {
            obj.insert(name.clone(), Value::Unknown);
            continue;
        }
        let mut items = blocks.remove(name).unwrap_or_default();
        let v = match bs.nesting {
            Nesting::Single => {
                if items.len() > 1 {
                    out.diags.push(
                        Diagnostic::error(
                            "Too many blocks",
                            format!("No more than one {name:?} block is allowed."),
                        )
                        .with_range(header()),
                    );
                }
                items.into_iter().next().unwrap_or(Value::Null)
            }
            Nesting::List => Value::List(items),
            Nesting::Set => {
                dedup_set(&mut items);
                Value::List(items)
            }
        };
        obj.insert(name.clone(), v);
    }
    out.value = Value::Map(obj);
    out
}

/// A nested block given as a value (JSON syntax): its arguments converted to their types,
/// its own nested blocks likewise, as [`eval_body`] would make it from a block.
fn block_value(v: &Value, schema: &ResourceSchema) -> Result<Value, String> {
    let Value::Map(m) = v else {
        return Err(format!("a block is an object, got {}", v.type_name()));
    };
    let mut obj = ValueMap::new();
    for (k, x) in m {
        if let Some(attr) = schema.attributes.get(k) {
            obj.insert(
                k.clone(),
                attr.ty.convert(x).map_err(|e| format!("{k}: {e}"))?,
            );
        } else if !schema.blocks.contains_key(k) {
            return Err(format!("an argument named {k:?} is not expected here"));
        }
    }
    for (name, attr) in &schema.attributes {
        if attr.required && !obj.contains_key(name) {
            return Err(format!("the argument {name:?} is required"));
        }
        obj.entry(name.clone()).or_insert(Value::Null);
    }
    for (name, bs) in &schema.blocks {
        let items: Vec<Value> = match m.get(name) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::List(l)) => l
                .iter()
                .map(|x| block_value(x, &bs.schema))
                .collect::<Result<_, _>>()?,
            Some(x) => vec![block_value(x, &bs.schema)?],
        };
        let v = match bs.nesting {
            Nesting::Single => items.into_iter().next().unwrap_or(Value::Null),
            Nesting::List => Value::List(items),
            Nesting::Set => {
                let mut items = items;
                dedup_set(&mut items);
                Value::List(items)
            }
        };
        obj.insert(name.clone(), v);
    }
    Ok(Value::Map(obj))
}

fn dynamic_block(
    ctx: &mut EvalCtx,
    b: &Block,
    schema: &ResourceSchema,
    blocks: &mut BTreeMap<String, Vec<Value>>,
    unknown_blocks: &mut BTreeSet<String>,
    diags: &mut Diagnostics,
) {
    let Some(label) = b.labels.first().map(|l| l.as_str().to_string()) else {
        diags.push(ctx.error(
            b.ident.span(),
            "Missing block label",
            "A dynamic block needs the type of the block to generate as its label.",
        ));
        return;
    };
    let Some(bs) = schema.blocks.get(&label) else {
        if let Some(m) = schema.not_yet_message(&label) {
            diags.push(ctx.error(b.ident.span(), "Block not supported yet", m));
            return;
        }
        diags.push(ctx.error(
            b.ident.span(),
            "Unsupported block type",
            format!("Blocks of type {label:?} are not expected here."),
        ));
        return;
    };
    let iterator = b
        .body
        .get_attribute("iterator")
        .and_then(|a| traversal_names(&a.value))
        .and_then(|n| n.into_iter().next())
        .unwrap_or_else(|| label.clone());
    let Some(fe) = b.body.get_attribute("for_each") else {
        diags.push(ctx.error(
            b.ident.span(),
            "Missing required argument",
            "A dynamic block needs a for_each argument.",
        ));
        return;
    };
    let Some(content) = b
        .body
        .blocks()
        .find(|cb| cb.ident.value().as_str() == "content")
    else {
        diags.push(ctx.error(
            b.ident.span(),
            "Missing content block",
            "A dynamic block needs a content block.",
        ));
        return;
    };
    let coll = match ctx.eval(&fe.value) {
        Ok(v) => v,
        Err(d) => {
            diags.push(d);
            return;
        }
    };
    let pairs: Vec<(Value, Value)> = match coll {
        Value::Unknown => {
            unknown_blocks.insert(label);
            return;
        }
        Value::List(l) => l
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::Number(i as f64), v))
            .collect(),
        Value::Map(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
        Value::Null => Vec::new(),
        other => {
            diags.push(ctx.error(
                fe.value.span(),
                "Invalid dynamic for_each value",
                format!("Cannot iterate over a {}.", other.type_name()),
            ));
            return;
        }
    };
    let hr = b.ident.span().map(|s| ctx.range(s));
    let header = move || hr.clone();
    let entry = blocks.entry(label).or_default();
    for (k, v) in pairs {
        ctx.bind(&iterator, Value::map([("key", k), ("value", v)]));
        let r = eval_body(ctx, &content.body, &bs.schema, &header, false);
        ctx.unbind(1);
        diags.extend(r.diags);
        entry.push(r.value);
    }
}
