//! Override files (`override.tf`, `*_override.tf`), as Terraform merges them: each block of
//! an override file is merged into the block of the same type and labels in the module's
//! other files (a provider by its name and `alias`). An argument replaces the base's argument
//! of that name; nested blocks of a type replace all the base's blocks of that type, but a
//! resource's `lifecycle` is merged argument by argument; a `locals` entry replaces the
//! entry of that name wherever it is. The merged text replaces the base block in its file,
//! which is then loaded as usual.

use std::path::PathBuf;

use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span;
use terrane_core::{Diagnostic, Diagnostics};

use crate::source::SourceFile;

pub(super) fn apply(
    texts: &mut [(PathBuf, String)],
    overrides: &[(PathBuf, String)],
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for (path, text) in overrides {
        let file = SourceFile::new(super::display_path(path), text.clone());
        let body = match hcl_edit::parser::parse_body(text) {
            Ok(b) => b,
            Err(e) => {
                let loc = e.location();
                diags.push(
                    Diagnostic::error("Invalid override file", e.message().to_string())
                        .with_range(Some(file.range_at(loc.line(), loc.column()))),
                );
                continue;
            }
        };
        for s in body.iter() {
            let Structure::Block(ob) = s else {
                diags.push(
                    Diagnostic::error("Unsupported argument", "An override file holds blocks.")
                        .with_range(s.span().map(|sp| file.range(sp))),
                );
                continue;
            };
            let at = ob.ident.span().map(|sp| file.range(sp));
            let result = if ob.ident.value().as_str() == "locals" {
                override_locals(texts, ob, text)
            } else {
                override_block(texts, ob, text)
            };
            if let Err(m) = result {
                diags.push(
                    Diagnostic::error("Missing base configuration for override", m).with_range(at),
                );
            }
        }
    }
    diags
}

/// A block's type, labels and (for a provider) alias: what an override matches on.
fn key(b: &Block, text: &str) -> (String, Vec<String>, Option<String>) {
    let alias = b.body.iter().find_map(|s| match s {
        Structure::Attribute(a) if a.key.value().as_str() == "alias" => a
            .value
            .span()
            .and_then(|sp| text.get(sp))
            .map(|t| t.trim().trim_matches('"').to_string()),
        _ => None,
    });
    (
        b.ident.value().as_str().to_string(),
        b.labels.iter().map(|l| l.as_str().to_string()).collect(),
        alias,
    )
}

fn slice(text: &str, s: &Structure) -> String {
    s.span()
        .and_then(|sp| text.get(sp))
        .unwrap_or_default()
        .to_string()
}

fn name_of(s: &Structure) -> (bool, String) {
    match s {
        Structure::Attribute(a) => (true, a.key.value().as_str().to_string()),
        Structure::Block(b) => (false, b.ident.value().as_str().to_string()),
    }
}

/// The base's items merged with the override's, as text (one item per line).
fn merged_items(
    base: &Body,
    base_text: &str,
    over: &Body,
    over_text: &str,
    resource: bool,
) -> Vec<String> {
    let over_names: Vec<(bool, String)> = over.iter().map(name_of).collect();
    let mut out = Vec::new();
    for s in base.iter() {
        let (is_attr, name) = name_of(s);
        if resource && !is_attr && name == "lifecycle" {
            if let Some(Structure::Block(ol)) =
                over.iter().find(|o| name_of(o) == (false, name.clone()))
            {
                if let Structure::Block(bl) = s {
                    let inner = merged_items(&bl.body, base_text, &ol.body, over_text, false);
                    out.push(format!("lifecycle {{\n{}\n}}", inner.join("\n")));
                }
                continue;
            }
        }
        if over_names.contains(&(is_attr, name)) {
            continue;
        }
        out.push(slice(base_text, s));
    }
    for s in over.iter() {
        let (is_attr, name) = name_of(s);
        if resource
            && !is_attr
            && name == "lifecycle"
            && base.iter().any(|b| name_of(b) == (false, name.clone()))
        {
            continue;
        }
        out.push(slice(over_text, s));
    }
    out
}

fn override_block(
    texts: &mut [(PathBuf, String)],
    ob: &Block,
    over_text: &str,
) -> Result<(), String> {
    let want = key(ob, over_text);
    for (_, text) in texts.iter_mut() {
        let Ok(body) = hcl_edit::parser::parse_body(text) else {
            continue;
        };
        for s in body.iter() {
            let Structure::Block(bb) = s else { continue };
            if key(bb, text) != want {
                continue;
            }
            let Some(span) = bb.span() else { continue };
            let block_text = &text[span.clone()];
            let Some(open) = block_text.find('{') else {
                continue;
            };
            let resource = matches!(want.0.as_str(), "resource" | "data");
            let items = merged_items(&bb.body, text, &ob.body, over_text, resource);
            let merged = format!("{}{{\n{}\n}}", &block_text[..open], items.join("\n"));
            text.replace_range(span, &merged);
            return Ok(());
        }
    }
    Err(format!(
        "The override file has a {} block {} that no other file of the module declares: an override changes a block, it does not add one.",
        want.0,
        want.1.iter().map(|l| format!("{l:?}")).collect::<Vec<_>>().join(" ")
    ))
}

fn override_locals(
    texts: &mut [(PathBuf, String)],
    ob: &Block,
    over_text: &str,
) -> Result<(), String> {
    for s in ob.body.iter() {
        let Structure::Attribute(oa) = s else {
            continue;
        };
        let name = oa.key.value().as_str();
        let new = slice(over_text, s);
        let mut done = false;
        for (_, text) in texts.iter_mut() {
            let Ok(body) = hcl_edit::parser::parse_body(text) else {
                continue;
            };
            let found = body.iter().find_map(|bs| match bs {
                Structure::Block(b) if b.ident.value().as_str() == "locals" => {
                    b.body.iter().find_map(|x| match x {
                        Structure::Attribute(a) if a.key.value().as_str() == name => x.span(),
                        _ => None,
                    })
                }
                _ => None,
            });
            if let Some(span) = found {
                text.replace_range(span, &new);
                done = true;
                break;
            }
        }
        if !done {
            return Err(format!(
                "The override file sets local.{name}, which no other file of the module declares."
            ));
        }
    }
    Ok(())
}
