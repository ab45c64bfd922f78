//! The functions of Terraform's built-in `terraform` provider: `provider::terraform::
//! encode_tfvars`, `decode_tfvars` and `encode_expr`. Values are written as HCL in Terraform's
//! canonical layout (the formatter in `crate::fmt`).

use terrane_core::{Diagnostics, Value, ValueMap};

use super::{arity, s, R};

pub(super) const NAMES: &[&str] = &[
    "provider::terraform::encode_tfvars",
    "provider::terraform::decode_tfvars",
    "provider::terraform::encode_expr",
];

/// `Some(result)` for the functions of this file, `None` for any other name.
pub(super) fn call(name: &str, a: &[Value]) -> Option<R> {
    Some(match name.strip_prefix("provider::terraform::")? {
        "encode_tfvars" => arity(name, a, 1).and_then(|()| encode_tfvars(&a[0])),
        "decode_tfvars" => arity(name, a, 1).and_then(|()| decode_tfvars(&s(&a[0])?)),
        "encode_expr" if a.first().is_some_and(Value::is_null) => {
            Err("argument must not be null".into())
        }
        "encode_expr" => arity(name, a, 1).map(|()| {
            let mut out = String::new();
            expr(&a[0], &mut out);
            let formatted = crate::fmt::format(&format!("x = {out}\n"));
            Value::String(
                formatted
                    .trim_start_matches("x = ")
                    .trim_end_matches('\n')
                    .to_string(),
            )
        }),
        _ => return None,
    })
}

fn is_identifier(k: &str) -> bool {
    let mut c = k.chars();
    c.next().is_some_and(|f| f.is_alphabetic() || f == '_')
        && c.all(|x| x.is_alphanumeric() || x == '_' || x == '-')
}

fn encode_tfvars(v: &Value) -> R {
    let m = match v {
        Value::Map(m) => m,
        Value::Null => return Err("cannot encode a null value in tfvars syntax".into()),
        o => {
            return Err(format!(
                "invalid value to encode: must be an object whose attribute names will become the encoded variable names, not {}",
                o.type_name()
            ))
        }
    };
    let mut out = String::new();
    for (k, x) in m {
        if !is_identifier(k) {
            return Err(format!(
                "invalid variable name {k:?}: must be a valid identifier, per Terraform's rules for input variable declarations"
            ));
        }
        out.push_str(k);
        out.push_str(" = ");
        expr(x, &mut out);
        out.push('\n');
    }
    Ok(Value::String(crate::fmt::format(&out)))
}

fn decode_tfvars(src: &str) -> R {
    let body = hcl_edit::parser::parse_body(src)
        .map_err(|e| format!("invalid tfvars syntax: {}", e.message()))?;
    let file = crate::source::SourceFile::new("<decode_tfvars argument>", src.to_string());
    let mut out = ValueMap::new();
    for st in body.iter() {
        let Some(attr) = st.as_attribute() else {
            return Err("invalid tfvars syntax: blocks are not allowed".into());
        };
        let v = crate::eval::eval_static(&attr.value, &file).map_err(|d: Diagnostics| {
            d.0.iter()
                .map(|x| format!("{}: {}", x.summary, x.detail))
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        out.insert(attr.key.value().as_str().to_string(), v);
    }
    Ok(Value::Map(out))
}

/// A value as an HCL expression, one attribute per line in objects.
pub(crate) fn expr(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Unknown => out.push_str("null"),
        Value::Bool(b) => out.push_str(&b.to_string()),
        Value::Number(_) => out.push_str(&v.to_json().to_string()),
        Value::String(t) => quote(t, out),
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                expr(x, out);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            if !m.is_empty() {
                out.push('\n');
            }
            for (k, x) in m {
                if is_identifier(k) {
                    out.push_str(k);
                } else {
                    quote(k, out);
                }
                out.push_str(" = ");
                expr(x, out);
                out.push('\n');
            }
            out.push('}');
        }
    }
}

/// A string literal with HCL's escapes, `${` and `%{` doubled.
fn quote(t: &str, out: &mut String) {
    out.push('"');
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
