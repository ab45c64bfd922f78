//! Conversions between the contract's types and the engine's.

use std::collections::BTreeMap;

use terrane_core::{
    Attribute, BlockSchema, Diagnostic, Nesting, ProviderError, ProviderSchema, ResourceSchema,
    Type, Value,
};

use crate::bindings::wit;

/// Encodes a value for the plugin (JSON text, unknown values marked).
pub fn value_out(v: &Value) -> String {
    v.to_wire()
}

/// Decodes a value from the plugin.
pub fn value_in(s: &str, what: &str) -> Result<Value, String> {
    Value::from_wire(s).map_err(|e| format!("returned {what} that is {e}"))
}

pub fn diagnostic_in(d: wit::Diagnostic) -> Diagnostic {
    let mut out = match d.severity {
        wit::Severity::Error => Diagnostic::error(d.summary, d.detail),
        wit::Severity::Warning => Diagnostic::warning(d.summary, d.detail),
    };
    if let Some(first) = d.attribute.first() {
        out = out.for_attribute(first);
        if d.attribute.len() > 1 {
            let path = d.attribute.join(".");
            out.detail = if out.detail.is_empty() {
                format!("At {path}.")
            } else {
                format!("{} (at {path})", out.detail)
            };
        }
    }
    out
}

pub fn error_in(e: wit::Error) -> ProviderError {
    ProviderError {
        message: e.message,
        retryable: e.retryable,
        partial_state: e
            .partial_state
            .and_then(|s| value_in(&s, "a partial state").ok()),
    }
}

fn attribute_in(a: &wit::Attribute) -> Result<(String, Attribute), String> {
    let ty_json: serde_json::Value = serde_json::from_str(&a.type_).map_err(|e| {
        format!(
            "attribute {:?}: type {:?} is not JSON: {e}",
            a.name, a.type_
        )
    })?;
    let ty = Type::from_type_json(&ty_json).map_err(|e| format!("attribute {:?}: {e}", a.name))?;
    let default = match &a.default {
        Some(d) => Some(value_in(d, "a default")?),
        None => None,
    };
    if !(a.required || a.optional || a.computed) {
        return Err(format!(
            "attribute {:?} is neither required, optional nor computed",
            a.name
        ));
    }
    Ok((
        a.name.clone(),
        Attribute {
            ty,
            required: a.required,
            optional: a.optional,
            computed: a.computed,
            sensitive: a.sensitive,
            force_new: a.force_new,
            default,
        },
    ))
}

fn schema_in(s: &wit::Schema) -> Result<ResourceSchema, String> {
    let mut out = ResourceSchema::new();
    for a in &s.attributes {
        let (name, attr) = attribute_in(a)?;
        out.attributes.insert(name, attr);
    }
    // Blocks are listed flat with their parent path; parents come before their children.
    for b in &s.blocks {
        let mut target = &mut out;
        for p in &b.parent {
            target = &mut target
                .blocks
                .get_mut(p)
                .ok_or_else(|| {
                    format!(
                        "{}: block {:?} is listed before its parent {p:?}",
                        s.type_name, b.name
                    )
                })?
                .schema;
        }
        let mut inner = ResourceSchema::new();
        for a in &b.attributes {
            let (name, attr) = attribute_in(a)?;
            inner.attributes.insert(name, attr);
        }
        target.blocks.insert(
            b.name.clone(),
            BlockSchema {
                nesting: match b.nesting {
                    wit::Nesting::Single => Nesting::Single,
                    wit::Nesting::List => Nesting::List,
                    wit::Nesting::Set => Nesting::Set,
                },
                schema: inner,
                force_new: b.force_new,
            },
        );
    }
    Ok(out)
}

/// The engine's schema from the plugin's, checking every type it declares.
pub fn provider_schema_in(s: &wit::ProviderSchema) -> Result<ProviderSchema, String> {
    let mut out = ProviderSchema {
        provider: schema_in(&s.provider)?,
        ..Default::default()
    };
    let mut seen = BTreeMap::new();
    for r in &s.resources {
        if seen.insert(r.type_name.clone(), ()).is_some() {
            return Err(format!("resource type {:?} is declared twice", r.type_name));
        }
        out.resources.insert(r.type_name.clone(), schema_in(r)?);
    }
    for d in &s.data_sources {
        out.data_sources.insert(d.type_name.clone(), schema_in(d)?);
    }
    Ok(out)
}
