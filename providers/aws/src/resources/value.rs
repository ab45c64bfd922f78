//! Reading planned and prior values and building state values: the helpers every resource file
//! uses.

use std::collections::BTreeMap;
use std::time::Duration;

use terrane_core::units::parse_duration;
use terrane_core::Value;

/// A string attribute (`None` when unset or not a string).
pub fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// A string attribute, empty when unset.
pub fn text_of<'a>(v: &'a Value, k: &str) -> &'a str {
    str_of(v, k).unwrap_or_default()
}

/// A string attribute as an owned `String`, empty when unset.
pub fn string_of(v: &Value, k: &str) -> String {
    text_of(v, k).to_string()
}

/// A bool attribute (`None` when unset).
pub fn bool_of(v: &Value, k: &str) -> Option<bool> {
    v.get(k).and_then(Value::as_bool)
}

/// Sets attribute `k` of a map value (nothing for other values).
pub fn put(v: &mut Value, k: &str, x: Value) {
    if let Value::Map(m) = v {
        m.insert(k.to_string(), x);
    }
}

/// `Some(s)` as a string value, `None` as null.
pub fn opt_s(x: Option<&str>) -> Value {
    x.map(Value::from).unwrap_or(Value::Null)
}

/// A number value, `None` as null.
pub fn opt_n<N: Into<f64>>(x: Option<N>) -> Value {
    x.map(|n| Value::Number(n.into())).unwrap_or(Value::Null)
}

pub fn num(n: impl Into<f64>) -> Value {
    Value::Number(n.into())
}

pub fn int_of(v: &Value, k: &str) -> Option<i32> {
    v.get(k).and_then(Value::as_f64).map(|n| n as i32)
}

/// A list or set of strings (empty when unset).
pub fn strs_of(v: &Value, k: &str) -> Vec<String> {
    v.strings_at(k)
}

/// A list of strings as a value.
pub fn str_list<S: AsRef<str>>(it: impl IntoIterator<Item = S>) -> Value {
    Value::List(it.into_iter().map(|s| Value::from(s.as_ref())).collect())
}

/// A set of strings as a value: sorted and de-duplicated, as the engine stores sets.
pub fn str_set<S: AsRef<str>>(it: impl IntoIterator<Item = S>) -> Value {
    let mut v: Vec<String> = it.into_iter().map(|s| s.as_ref().to_string()).collect();
    v.sort();
    v.dedup();
    str_list(v)
}

/// A map of strings (empty when unset).
pub fn str_map(v: &Value, k: &str) -> BTreeMap<String, String> {
    v.get(k)
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

pub fn map_value(m: &BTreeMap<String, String>) -> Value {
    Value::Map(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

/// The items of a nested block (a one-element list for a single block).
pub fn blocks<'a>(v: &'a Value, k: &str) -> Vec<&'a Value> {
    match v.get(k) {
        Some(Value::List(l)) => l.iter().collect(),
        Some(m @ Value::Map(_)) => vec![m],
        _ => Vec::new(),
    }
}

/// The first item of a nested block.
pub fn block<'a>(v: &'a Value, k: &str) -> Option<&'a Value> {
    blocks(v, k).into_iter().next()
}

/// Optional string sets inside a nested block that the configuration left unset are planned as
/// empty, as AWS reports them. (The engine already sorts set values when it evaluates a block.)
pub fn empty_sets_for_null(planned: &mut Value, block_name: &str, keys: &[&str]) {
    if let Some(Value::List(mut items)) = planned.get(block_name).cloned() {
        for item in &mut items {
            for k in keys {
                if item.get(k).is_none_or(Value::is_null) {
                    put(item, k, Value::List(Vec::new()));
                }
            }
        }
        put(planned, block_name, Value::List(items));
    }
}

/// Whether any of `keys` differs between prior and planned.
pub fn changed(prior: &Value, planned: &Value, keys: &[&str]) -> bool {
    keys.iter().any(|k| prior.get(k) != planned.get(k))
}

/// The deadline for `op` ("create", "update", "delete") from the `timeouts` block of `v`.
pub fn timeout(v: &Value, op: &str, default: Duration) -> Duration {
    v.get("timeouts")
        .and_then(|t| t.get(op))
        .and_then(Value::as_str)
        .and_then(|s| parse_duration(s).ok())
        .unwrap_or(default)
}
