//! The JSON paths of `http { json = { "$.Status" = "Success" } }`: `$`, `.name`, `['name']`,
//! `["name"]` and `[index]` (negative counts from the end).

use serde_json::Value as Json;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(i64),
}

/// Parses a path; the error says what is wrong and where.
fn parse(path: &str) -> Result<Vec<Step>, String> {
    let rest = path
        .trim()
        .strip_prefix('$')
        .ok_or_else(|| format!("JSON path {path:?} must start with $"))?;
    let b = rest.as_bytes();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                if j == start {
                    return Err(format!("JSON path {path:?}: a name is missing after '.'"));
                }
                steps.push(Step::Key(rest[start..j].to_string()));
                i = j;
            }
            b'[' => {
                let close = rest[i..]
                    .find(']')
                    .map(|c| i + c)
                    .ok_or_else(|| format!("JSON path {path:?}: '[' is not closed"))?;
                let inner = rest[i + 1..close].trim();
                let quoted = inner.len() >= 2
                    && ((inner.starts_with('\'') && inner.ends_with('\''))
                        || (inner.starts_with('"') && inner.ends_with('"')));
                if quoted {
                    steps.push(Step::Key(inner[1..inner.len() - 1].to_string()));
                } else {
                    let n = inner.parse::<i64>().map_err(|_| {
                        format!(
                            "JSON path {path:?}: [{inner}] is neither an index nor a quoted name"
                        )
                    })?;
                    steps.push(Step::Index(n));
                }
                i = close + 1;
            }
            c => {
                return Err(format!(
                    "JSON path {path:?}: unexpected {:?} at position {}",
                    c as char,
                    i + 1
                ))
            }
        }
    }
    Ok(steps)
}

/// Checks a path's syntax (for validation before anything runs).
pub fn check(path: &str) -> Result<(), String> {
    parse(path).map(|_| ())
}

/// The value at `path` in `doc`, if there is one.
pub fn select<'a>(doc: &'a Json, path: &str) -> Result<Option<&'a Json>, String> {
    let mut cur = doc;
    for step in parse(path)? {
        let next = match (&step, cur) {
            (Step::Key(k), Json::Object(m)) => m.get(k),
            (Step::Index(n), Json::Array(a)) => {
                let idx = if *n < 0 { a.len() as i64 + n } else { *n };
                usize::try_from(idx).ok().and_then(|i| a.get(i))
            }
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
}

/// Whether a selected value equals what the configuration expects, written as text: strings
/// compare as they are, numbers by value (`"2"` matches `2` and `2.0`), anything else by its
/// JSON text (`true`, `null`, `[1,2]`).
pub fn matches(actual: &Json, expected: &str) -> bool {
    match actual {
        Json::String(s) => s == expected,
        Json::Number(n) => match (n.as_f64(), expected.trim().parse::<f64>()) {
            (Some(a), Ok(e)) => a == e,
            _ => false,
        },
        other => serde_json::from_str::<Json>(expected.trim()).is_ok_and(|e| &e == other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_select_and_compare() {
        let doc = json!({"Status": "Success", "version": "1.4.2", "build": 42,
                         "checks": [{"name": "db", "ok": true}], "a b": {"c": null}});
        let at = |p: &str| select(&doc, p).unwrap();
        assert_eq!(at("$.Status"), Some(&json!("Success")));
        assert_eq!(at("$['a b'].c"), Some(&json!(null)));
        assert_eq!(at("$.checks[0].name"), Some(&json!("db")));
        assert_eq!(at("$.checks[-1][\"ok\"]"), Some(&json!(true)));
        assert_eq!(at("$.checks[3]"), None);
        assert_eq!(at("$.missing.deeper"), None);
        assert_eq!(at("$"), Some(&doc));
        assert!(matches(at("$.Status").unwrap(), "Success"));
        assert!(!matches(at("$.Status").unwrap(), "success"));
        assert!(matches(at("$.build").unwrap(), "42"));
        assert!(matches(at("$.build").unwrap(), "42.0"));
        assert!(matches(at("$.checks[0].ok").unwrap(), "true"));
        assert!(matches(at("$['a b'].c").unwrap(), "null"));
        assert!(check("Status").unwrap_err().contains("must start with $"));
        assert!(check("$.").unwrap_err().contains("a name is missing"));
        assert!(check("$[x]").unwrap_err().contains("neither an index"));
        assert!(check("$[0").unwrap_err().contains("not closed"));
        assert!(check("$x").unwrap_err().contains("unexpected 'x'"));
    }
}
