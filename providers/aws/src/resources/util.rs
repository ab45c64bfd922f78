//! Small helpers shared by the resource files: reading planned values, building state values,
//! `timeouts` blocks, and adopting an object whose create response was lost.

use std::collections::BTreeMap;
use std::time::Duration;

use terrane_core::{Attribute, Nesting, ResourceSchema, Type, Value};

use crate::error::AwsError;

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
                    super::put(item, k, Value::List(Vec::new()));
                }
            }
        }
        super::put(planned, block_name, Value::List(items));
    }
}

/// Whether any of `keys` differs between prior and planned.
pub fn changed(prior: &Value, planned: &Value, keys: &[&str]) -> bool {
    keys.iter().any(|k| prior.get(k) != planned.get(k))
}

/// An answer without the field we need.
pub fn missing(operation: &'static str, what: &str) -> AwsError {
    AwsError::new(
        operation,
        "InvalidResponse",
        format!("no {what} in the response"),
    )
}

/// An object that vanished between our write and our read.
pub fn vanished(operation: &'static str, what: &str, id: &str) -> AwsError {
    AwsError::new(
        operation,
        "NotFoundAfterWrite",
        format!("{what} {id} does not exist"),
    )
}

/// The `timeouts { create, update, delete }` block, as in Terraform.
pub fn timeouts_schema() -> ResourceSchema {
    ResourceSchema::new()
        .attr("create", Attribute::optional(Type::String))
        .attr("update", Attribute::optional(Type::String))
        .attr("delete", Attribute::optional(Type::String))
}

pub fn add_timeouts(s: ResourceSchema) -> ResourceSchema {
    s.block("timeouts", Nesting::Single, timeouts_schema())
}

/// Parses a Go-style duration as Terraform's `timeouts` take: `30s`, `10m`, `1h30m`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let mut total = 0f64;
    let mut num = String::new();
    let mut any = false;
    for c in s.trim().chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match c {
            'h' => 3600.0,
            'm' => 60.0,
            's' => 1.0,
            _ => return None,
        };
        any = true;
    }
    (num.is_empty() && any).then(|| Duration::from_secs_f64(total))
}

/// The deadline for `op` ("create", "update", "delete") from the `timeouts` block of `v`.
pub fn timeout(v: &Value, op: &str, default: Duration) -> Duration {
    v.get("timeouts")
        .and_then(|t| t.get(op))
        .and_then(Value::as_str)
        .and_then(parse_duration)
        .unwrap_or(default)
}

/// FNV-1a of `s`: a content hash that is stable across runs and platforms, for ids derived from
/// content (as Terraform derives some).
pub fn fnv64(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Whether an error says the (named) object already exists.
pub fn already_exists(e: &AwsError) -> bool {
    e.code.contains("AlreadyExists") || e.code.contains("EntityAlreadyExists")
}

/// Runs a create whose API has no idempotency token, with the SDK's blind retries off (the
/// caller sends with `no_retry` config): after a failure worth retrying (throttling, a 5xx, a
/// dropped connection: the request may have been carried out and only its answer lost) the
/// object is first looked for with `find` (by its token tag), and only if it is not there is
/// the create sent again. So a retry never makes a second object.
pub async fn create_then_find<O, E, R, S, Fut, F, FFut>(
    operation: &'static str,
    mut send: S,
    id_of: impl Fn(O) -> Option<String>,
    mut find: F,
) -> Result<String, AwsError>
where
    S: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<O, aws_sdk_ec2::error::SdkError<E, R>>>,
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
    F: FnMut() -> FFut,
    FFut: std::future::Future<Output = Result<Option<String>, AwsError>>,
{
    let mut delay = Duration::from_millis(200);
    for attempt in 1.. {
        match send().await.map_err(|e| crate::error::sdk(operation, e)) {
            Ok(o) => return id_of(o).ok_or_else(|| missing(operation, "id")),
            Err(e) if e.retryable && attempt < 12 => {
                tracing::debug!(error = %e, attempt, "create failed; looking for the object before retrying");
                let jitter = Duration::from_millis(rand::random::<u64>() % 100);
                tokio::time::sleep(delay + jitter).await;
                delay = (delay * 2).min(Duration::from_secs(10));
                // Lookups are idempotent: their own retries stay on.
                if let Some(id) = find().await? {
                    return Ok(id);
                }
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

/// The SDK's retry policy switched off, for one call of any service.
pub fn no_retry_config() -> aws_smithy_types::retry::RetryConfig {
    aws_smithy_types::retry::RetryConfig::disabled()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_terraform() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("5x"), None);
    }

    #[test]
    fn timeout_falls_back_to_default() {
        let v = Value::map([("timeouts", Value::map([("create", Value::from("2m"))]))]);
        let d = Duration::from_secs(7);
        assert_eq!(timeout(&v, "create", d), Duration::from_secs(120));
        assert_eq!(timeout(&v, "delete", d), d);
        assert_eq!(timeout(&Value::Null, "create", d), d);
    }
}
