//! Sensitive values, masked wherever people read text, as CI systems mask secrets in logs.
//!
//! Every value that is known to be sensitive (a sensitive variable's value, a sensitive
//! attribute read from state or returned by a provider, a sensitive output) is registered here
//! as it is met. Human-readable renderings (plans, apply progress, show, state show, history,
//! diagnostics, debug logs) pass their text through [`mask`], which replaces every occurrence
//! of a registered value. The registry is process-wide on purpose: a log line written by a
//! provider deep in a call has no other way to learn what must not appear in it.
//!
//! Values shorter than [`MIN_LEN`] characters are not registered: masking every `1` or `dev`
//! would make output unreadable and hides nothing worth hiding. Machine-readable output
//! (`-json`, `-raw`, naming an output) is never masked, as in Terraform.

use std::borrow::Cow;
use std::sync::RwLock;

use crate::Value;

/// What replaces a sensitive value in text.
pub const MASK: &str = "(sensitive value)";

/// Shorter strings are not masked.
pub const MIN_LEN: usize = 4;

static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers every string (and number, as written) inside `v` as sensitive.
pub fn register(v: &Value) {
    let mut found = Vec::new();
    collect(v, &mut found);
    if found.is_empty() {
        return;
    }
    let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    let mut added = false;
    for s in found {
        if !known.contains(&s) {
            known.push(s);
            added = true;
        }
    }
    if added {
        // Longest first, so that a value containing another is masked whole.
        known.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }
}

/// Registers one string.
pub fn register_str(s: &str) {
    register(&Value::String(s.to_string()));
}

fn collect(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.chars().count() >= MIN_LEN => out.push(s.clone()),
        Value::Number(_) => {
            let s = v.to_string();
            if s.len() >= MIN_LEN {
                out.push(s);
            }
        }
        Value::List(l) => l.iter().for_each(|x| collect(x, out)),
        Value::Map(m) => m.values().for_each(|x| collect(x, out)),
        _ => {}
    }
}

/// Whether `v` contains (in any string inside it) a registered sensitive value: an attribute
/// a provider computed from a secret is itself secret.
pub fn contains_sensitive(v: &Value) -> bool {
    let known = KNOWN.read().unwrap_or_else(|e| e.into_inner());
    if known.is_empty() {
        return false;
    }
    fn walk(v: &Value, known: &[String]) -> bool {
        match v {
            Value::String(s) => known.iter().any(|k| s.contains(k.as_str())),
            Value::List(l) => l.iter().any(|x| walk(x, known)),
            Value::Map(m) => m.values().any(|x| walk(x, known)),
            _ => false,
        }
    }
    walk(v, &known)
}

/// The top-level attributes of an object value that contain a registered sensitive value.
pub fn sensitive_attrs(v: &Value) -> Vec<String> {
    match v.as_map() {
        Some(m) => m
            .iter()
            .filter(|(_, x)| contains_sensitive(x))
            .map(|(k, _)| k.clone())
            .collect(),
        None => Vec::new(),
    }
}

/// `text` with every registered sensitive value replaced by [`MASK`].
pub fn mask(text: &str) -> Cow<'_, str> {
    let known = KNOWN.read().unwrap_or_else(|e| e.into_inner());
    let mut out: Cow<'_, str> = Cow::Borrowed(text);
    for k in known.iter() {
        if out.contains(k.as_str()) {
            out = Cow::Owned(out.replace(k.as_str(), MASK));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_are_masked_wherever_they_occur() {
        register(&Value::map([
            ("password", Value::from("s3cr3t-Pa55")),
            ("short", Value::from("ab")),
        ]));
        assert_eq!(
            mask("url=postgres://u:s3cr3t-Pa55@db/x ab"),
            "url=postgres://u:(sensitive value)@db/x ab"
        );
        assert!(contains_sensitive(&Value::from("prefix-s3cr3t-Pa55")));
        assert!(!contains_sensitive(&Value::from("ab")));
        let obj = Value::map([
            ("output", Value::map([("p", Value::from("s3cr3t-Pa55"))])),
            ("id", Value::from("x")),
        ]);
        assert_eq!(sensitive_attrs(&obj), vec!["output".to_string()]);
    }
}
