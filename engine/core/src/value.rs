//! The dynamic value model used for configuration, plans and state.

use std::fmt;

mod map;
pub use map::ValueMap;

/// A configuration or state value. Lists, tuples and sets are all `List`; maps and objects are
/// both `Map` (keys sorted, as Terraform renders them). `Unknown` is a value that will only be
/// known after apply; operations on it yield `Unknown`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Map(ValueMap),
    Unknown,
}

/// Key used in JSON encodings that must carry unknown values (saved plans).
pub const UNKNOWN_MARKER: &str = "__terrane_unknown__";

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn map<K: Into<String>>(items: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(items.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when the value or anything inside it is unknown.
    pub fn contains_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(l) => l.iter().any(Value::contains_unknown),
            Value::Map(m) => m.values().any(Value::contains_unknown),
            _ => false,
        }
    }

    /// True when the value is fully known.
    pub fn is_known(&self) -> bool {
        !self.contains_unknown()
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&ValueMap> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Attribute lookup on a map value (`None` for anything else or a missing key).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Name of the value's kind, for error messages.
    /// The strings of the list or set at `key` (empty when it is unset; non-strings skipped).
    pub fn strings_at(&self, key: &str) -> Vec<String> {
        self.get(key)
            .and_then(Value::as_list)
            .map(|l| {
                l.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Unknown => "unknown",
        }
    }

    /// Converts to a string the way HCL templates do (`null` is an error for the caller to report).
    pub fn to_template_string(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(format_number(*n)),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// JSON form used in state (unknown values are not allowed there; they become null).
    pub fn to_json(&self) -> serde_json::Value {
        self.to_json_inner(false)
    }

    /// JSON form that keeps unknown values as `{"__terrane_unknown__": true}` (saved plans).
    pub fn to_json_with_unknown(&self) -> serde_json::Value {
        self.to_json_inner(true)
    }

    fn to_json_inner(&self, keep_unknown: bool) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => J::String(s.clone()),
            Value::List(l) => J::Array(l.iter().map(|v| v.to_json_inner(keep_unknown)).collect()),
            Value::Map(m) => J::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.to_json_inner(keep_unknown)))
                    .collect(),
            ),
            Value::Unknown if keep_unknown => {
                let mut o = serde_json::Map::new();
                o.insert(UNKNOWN_MARKER.into(), J::Bool(true));
                J::Object(o)
            }
            Value::Unknown => J::Null,
        }
    }

    /// The type of the value as Terraform writes types in JSON (`output -json`, `show -json`):
    /// `"string"`, `"number"`, `"bool"`, `["tuple", [...]]` for a list and `["object", {...}]`
    /// for a map, the types of their elements inside; `"dynamic"` for null and unknown. It is the
    /// value's own type, as Terraform's is for an output that converts nothing.
    pub fn type_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Value::String(_) => json!("string"),
            Value::Number(_) => json!("number"),
            Value::Bool(_) => json!("bool"),
            Value::List(l) => json!(["tuple", l.iter().map(Value::type_json).collect::<Vec<_>>()]),
            Value::Map(m) => {
                let fields: serde_json::Map<String, serde_json::Value> =
                    m.iter().map(|(k, v)| (k.clone(), v.type_json())).collect();
                json!(["object", fields])
            }
            Value::Null | Value::Unknown => json!("dynamic"),
        }
    }

    /// The text form in which values cross the plugin contract: JSON, unknown values marked
    /// as in [`Value::to_json_with_unknown`].
    pub fn to_wire(&self) -> String {
        self.to_json_with_unknown().to_string()
    }

    /// Inverse of [`Value::to_wire`].
    pub fn from_wire(text: &str) -> Result<Value, String> {
        serde_json::from_str::<serde_json::Value>(text)
            .map(|j| Value::from_json(&j))
            .map_err(|e| format!("not valid JSON: {e}"))
    }

    /// Inverse of [`Value::to_json_with_unknown`] (and of [`Value::to_json`]).
    pub fn from_json(j: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match j {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            J::String(s) => Value::String(s.clone()),
            J::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            J::Object(o) => {
                if o.len() == 1 && o.get(UNKNOWN_MARKER) == Some(&J::Bool(true)) {
                    Value::Unknown
                } else {
                    Value::Map(
                        o.iter()
                            .map(|(k, v)| (k.clone(), Value::from_json(v)))
                            .collect(),
                    )
                }
            }
        }
    }
}

fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Formats a number the way Terraform prints it: integers without a fraction.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

impl fmt::Display for Value {
    /// HCL-like rendering used in plans and `output`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{}", format_number(*n)),
            Value::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            Value::Unknown => write!(f, "(known after apply)"),
            Value::List(l) => {
                write!(f, "[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            Value::Map(m) => {
                write!(f, "{{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                write!(f, "}}")
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n as f64)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_values_type_is_written_as_terraform_writes_types() {
        let v = Value::map([
            ("name", Value::from("web")),
            (
                "ports",
                Value::List(vec![Value::Number(80.0), Value::Bool(true)]),
            ),
            ("none", Value::Null),
        ]);
        assert_eq!(
            v.type_json(),
            serde_json::json!(["object", {
                "name": "string",
                "none": "dynamic",
                "ports": ["tuple", ["number", "bool"]],
            }])
        );
    }

    use super::*;

    #[test]
    fn json_roundtrip_keeps_unknown() {
        let v = Value::map([
            ("a", Value::Unknown),
            ("b", Value::List(vec![Value::from(1i64), Value::from("x")])),
        ]);
        let j = v.to_json_with_unknown();
        assert_eq!(Value::from_json(&j), v);
        assert_eq!(v.to_json()["a"], serde_json::Value::Null);
    }

    #[test]
    fn numbers_print_like_terraform() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(Value::from("a\"b").to_string(), "\"a\\\"b\"");
    }
}
