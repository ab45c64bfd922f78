//! Values of root variables from outside the configuration: `.tfvars` files and `-var` flags.

use std::collections::BTreeMap;
use std::path::Path;

use hcl_edit::structure::Structure;
use hcl_edit::Span;
use terrane_core::{Diagnostic, Diagnostics, Value};

use super::load::{display_path, parse_file, span_range};
use crate::eval::eval_static;
use crate::source::SourceFile;

/// Reads a `.tfvars` file (top-level `name = value` attributes) or a `.tfvars.json` file (one
/// JSON object; its values are taken as they are, not as templates).
pub fn load_var_file_values(path: &Path) -> Result<BTreeMap<String, Value>, Diagnostics> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::error(
            "Failed to read variables file",
            format!("{}: {e}", path.display()),
        )
    })?;
    let file = SourceFile::new(display_path(path), text);
    if path.to_string_lossy().ends_with(".json") {
        return json_values(&file);
    }
    let body = parse_file(&file)?;
    let mut out = BTreeMap::new();
    let mut diags = Diagnostics::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => match eval_static(&a.value, &file) {
                Ok(v) => {
                    out.insert(a.key.value().as_str().to_string(), v);
                }
                Err(d) => diags.extend(d),
            },
            Structure::Block(b) => diags.push(
                Diagnostic::error(
                    "Unexpected block in variables file",
                    "A variables file holds only `name = value` assignments.",
                )
                .with_range(span_range(&file, b.ident.span())),
            ),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(out)
}

fn json_values(file: &SourceFile) -> Result<BTreeMap<String, Value>, Diagnostics> {
    let j: serde_json::Value = serde_json::from_str(&file.text).map_err(|e| {
        // The position is in the diagnostic's range: the message is only what is wrong.
        let text = e.to_string();
        let what = text
            .rsplit_once(" at line ")
            .map_or(text.as_str(), |(w, _)| w);
        Diagnostic::error(
            "Invalid JSON in variables file",
            format!("The file is not valid JSON: {what}."),
        )
        .with_range(Some(file.range_at(e.line(), e.column())))
    })?;
    let serde_json::Value::Object(m) = j else {
        return Err(Diagnostic::error(
            "Invalid variables file",
            "A .tfvars.json file holds one JSON object: {\"name\": value, ...}.",
        )
        .with_range(Some(file.range_at(1, 1)))
        .into());
    };
    Ok(m.iter()
        .map(|(k, v)| (k.clone(), Value::from_json(v)))
        .collect())
}

/// Parses a `-var name=value` (or `TF_VAR_name`) value: taken literally for string (and untyped)
/// variables, parsed as an HCL expression for every other type, as Terraform does.
pub fn parse_cli_value(
    name: &str,
    raw: &str,
    ty: Option<&terrane_core::Type>,
) -> Result<Value, Diagnostic> {
    use terrane_core::Type;
    match ty {
        None | Some(Type::String) => Ok(Value::String(raw.to_string())),
        Some(t) => {
            let file = SourceFile::new(format!("<value for var.{name}>"), raw.to_string());
            let e = hcl_edit::parser::parse_expr(raw).map_err(|e| {
                Diagnostic::error(
                    "Invalid value for variable",
                    format!(
                        "The value for var.{name} is not a valid expression: {}",
                        e.message()
                    ),
                )
            })?;
            let v = eval_static(&e, &file).map_err(|d| {
                d.0.into_iter()
                    .next()
                    .unwrap_or_else(|| Diagnostic::error("Invalid value", ""))
            })?;
            // Checked here so that a bad value is refused as it is read; the value is given
            // as written, for the variable's own conversion (which also checks its required
            // object attributes and fills its optional ones' defaults).
            t.convert(&v).map(|_| v).map_err(|m| {
                Diagnostic::error(
                    "Invalid value for variable",
                    format!("The given value is not suitable for var.{name}: {m}."),
                )
            })
        }
    }
}
