//! Policy documents compare as JSON, not as strings: AWS returns them URL-encoded and
//! reformatted, and a single statement may come back without its array.

use serde_json::Value as J;
use terrane_core::{Diagnostic, Value};

use crate::resources::value::{put, str_of};

/// IAM's advice for writing a policy document.
pub const IAM_HINT: &str = "use jsonencode or aws_iam_policy_document";

/// An error at `key` when it is set but not JSON; `hint` says how to write it.
pub fn validate_json(config: &Value, key: &str, what: &str, hint: &str) -> Vec<Diagnostic> {
    match str_of(config, key) {
        Some(p) if serde_json::from_str::<J>(p).is_err() => vec![Diagnostic::error(
            format!("Invalid {key}"),
            format!("{key} must be a JSON {what} ({hint})."),
        )
        .for_attribute(key)],
        _ => Vec::new(),
    }
}

/// The same document written differently is no change: keep the prior spelling in the plan.
pub fn keep_equivalent(prior: Option<&Value>, planned: &mut Value, key: &str) {
    if let (Some(p), Some(new)) = (prior.and_then(|p| str_of(p, key)), str_of(planned, key)) {
        if p != new && equivalent(p, new) {
            put(planned, key, Value::from(p));
        }
    }
}

/// Decodes `%XX` escapes (and `+` as a space), as IAM returns policy documents.
pub fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(x) => {
                    out.push(x);
                    i += 3;
                }
                Err(_) => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A canonical form: single values and one-element arrays are the same, object key order and
/// whitespace do not matter.
fn canon(v: &J) -> J {
    match v {
        J::Array(a) if a.len() == 1 => canon(&a[0]),
        J::Array(a) => {
            let mut items: Vec<J> = a.iter().map(canon).collect();
            items.sort_by_key(|x| x.to_string());
            J::Array(items)
        }
        J::Object(o) => J::Object(o.iter().map(|(k, v)| (k.clone(), canon(v))).collect()),
        other => other.clone(),
    }
}

/// Whether two policy documents mean the same (false if either is not JSON).
pub fn equivalent(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<J>(a), serde_json::from_str::<J>(b)) {
        (Ok(x), Ok(y)) => canon(&x) == canon(&y),
        _ => false,
    }
}

/// The document as read from AWS, keeping `prior`'s spelling when it means the same.
pub fn keep_prior_if_same(read: &str, prior: Option<&str>) -> String {
    let decoded = if read.starts_with('%') || read.contains("%22") {
        url_decode(read)
    } else {
        read.to_string()
    };
    match prior {
        Some(p) if equivalent(p, &decoded) => p.to_string(),
        _ => decoded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_documents_compare_as_json() {
        let written = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let returned = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%7B%22Action%22%3A%20%22sts%3AAssumeRole%22%2C%20%22Principal%22%3A%20%7B%22Service%22%3A%20%22ecs-tasks.amazonaws.com%22%7D%2C%20%22Effect%22%3A%20%22Allow%22%7D%7D";
        assert_eq!(keep_prior_if_same(returned, Some(written)), written);
        assert!(!equivalent(written, &written.replace("Allow", "Deny")));
    }
}
