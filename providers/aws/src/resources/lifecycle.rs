//! What every resource's lifecycle shares: `timeouts` blocks and their deadlines, errors for
//! answers without what was asked, content ids, and adopting an object whose create response
//! was lost.

use std::time::Duration;

use terrane_core::units::parse_duration;
use terrane_core::{Diagnostic, Value};

use crate::config::Clients;
use crate::error::{AwsError, Result};
use crate::resources::kind::{AwsResource, Listed};
// Where the types' code has always found them.
pub use crate::error::vanished;
pub use crate::resources::kind::{read_back, read_one_by_one};
pub use crate::resources::value::timeout;

/// An answer without the field we need.
pub fn missing(operation: &'static str, what: &str) -> AwsError {
    AwsError::new(
        operation,
        "InvalidResponse",
        format!("no {what} in the response"),
    )
}

/// A name given as `key`, or `<key>_prefix` (default "terrane-") followed by `suffix` (the end
/// of the create token, [`token_tail`]), as Terraform's `name_prefix` arguments work.
pub fn name_or_prefix(planned: &Value, key: &str, suffix: &str) -> String {
    match planned.get(key).and_then(Value::as_str) {
        Some(n) => n.to_string(),
        None => {
            let prefix = planned
                .get(&format!("{key}_prefix"))
                .and_then(Value::as_str);
            format!("{}{suffix}", prefix.unwrap_or("terrane-"))
        }
    }
}

/// The last `n` characters of a create token.
pub fn token_tail(token: &str, n: usize) -> &str {
    &token[token.len().saturating_sub(n)..]
}

/// A diagnostic for each value of the `timeouts` block of `config` that is not a duration (the
/// core's grammar, as Terraform's: `30s`, `10m`, `1h30m`), so that a typo is an error at
/// validate and plan instead of a default silently used.
pub fn validate_timeouts(config: &Value) -> Vec<Diagnostic> {
    let Some(t) = config.get("timeouts").and_then(Value::as_map) else {
        return Vec::new();
    };
    t.iter()
        .filter_map(|(op, v)| {
            let s = v.as_str()?;
            parse_duration(s).err().map(|e| {
                Diagnostic::error(
                    format!("Invalid timeouts.{op}"),
                    format!(
                        "{e}; write it as Terraform does, such as \"30s\", \"10m\" or \"1h30m\""
                    ),
                )
            })
        })
        .collect()
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
) -> Result<String>
where
    S: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<O, aws_sdk_ec2::error::SdkError<E, R>>>,
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
    F: FnMut() -> FFut,
    FFut: std::future::Future<Output = Result<Option<String>>>,
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

/// The objects `kind.read` finds for `ids`, for a listing that yields ids: those gone in the
/// meantime are left out.
pub async fn read_each<K: AwsResource + ?Sized>(
    kind: &K,
    cx: &Clients,
    ids: impl IntoIterator<Item = String>,
) -> Result<Vec<Listed>> {
    let mut out = Vec::new();
    for id in ids {
        if let Some(v) = kind.read(cx, &id, &Value::Null).await? {
            out.push(Listed::new(v));
        }
    }
    Ok(out)
}

/// The `key` attribute (`id`, `arn`, `name`) of each prior that has one.
pub fn keys_of(priors: &[&Value], key: &str) -> Vec<String> {
    priors
        .iter()
        .filter_map(|p| p.get(key).and_then(Value::as_str).map(String::from))
        .collect()
}

/// Each prior's object among `found`, in the order of `priors`: the prior's `key` attribute
/// matched with `found_key` of each object (`None`: not found, so gone).
pub fn in_order_by<T>(
    priors: &[&Value],
    key: &str,
    found: impl IntoIterator<Item = T>,
    found_key: impl Fn(&T) -> Option<&str>,
) -> Vec<Option<T>> {
    let mut by_key: std::collections::HashMap<String, T> = found
        .into_iter()
        .filter_map(|t| found_key(&t).map(String::from).map(|k| (k, t)))
        .collect();
    priors
        .iter()
        .map(|p| by_key.remove(p.get(key).and_then(Value::as_str).unwrap_or_default()))
        .collect()
}

/// The objects of `priors` described in one call (`many`, given their `key` attributes), in
/// the order of `priors`. Where one missing object fails the whole call (ELBv2, ECR), each is
/// then described alone (`one`), so that a gone object is `None` and not an error.
pub async fn many_or_each<T, M, O>(
    priors: &[&Value],
    key: &str,
    many: impl FnOnce(Vec<String>) -> M,
    one: impl Fn(String) -> O,
    found_key: impl Fn(&T) -> Option<&str>,
) -> Result<Vec<Option<T>>>
where
    M: std::future::Future<Output = Result<Vec<T>>>,
    O: std::future::Future<Output = Result<Option<T>>>,
{
    match many(keys_of(priors, key)).await {
        Ok(found) => Ok(in_order_by(priors, key, found, found_key)),
        Err(e) if e.is_not_found() => {
            let mut out = Vec::with_capacity(priors.len());
            for k in priors.iter().map(|p| p.get(key).and_then(Value::as_str)) {
                out.push(match k {
                    Some(k) => one(k.to_string()).await?,
                    None => None,
                });
            }
            Ok(out)
        }
        Err(e) => Err(e),
    }
}

/// Each prior's object, as `found` has it in the order of the priors, made a state by
/// `to_state` (which may call AWS again, for tags or attributes); a gone object stays `None`.
pub async fn states_of<'a, T, F, Fut>(
    found: Vec<Option<T>>,
    priors: &[&'a Value],
    to_state: F,
) -> Result<Vec<Option<Value>>>
where
    F: Fn(T, &'a Value) -> Fut,
    Fut: std::future::Future<Output = Result<Value>>,
{
    let mut out = Vec::with_capacity(priors.len());
    for (item, p) in found.into_iter().zip(priors) {
        out.push(match item {
            Some(x) => Some(to_state(x, p).await?),
            None => None,
        });
    }
    Ok(out)
}

/// The positions of `priors` grouped by what `group` says of each (a cluster, a policy), for
/// APIs that describe many objects of one parent in one call.
pub fn grouped_by(
    priors: &[&Value],
    group: impl Fn(&Value) -> String,
) -> std::collections::BTreeMap<String, Vec<usize>> {
    let mut out: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for (i, p) in priors.iter().enumerate() {
        out.entry(group(p)).or_default().push(i);
    }
    out
}

/// How long a new IAM role may take to become usable.
const IAM_PROPAGATION: Duration = Duration::from_secs(120);

/// A new IAM role takes a few seconds to become usable by ECS and EKS ("Unable to assume
/// role", "role ... is not authorized"): retry those until the role has propagated.
pub async fn retry_iam_propagation<T, F, Fut>(mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let start = tokio::time::Instant::now();
    let mut delay = Duration::from_secs(2);
    loop {
        match f().await {
            Err(e)
                if (e.code.contains("InvalidParameter") || e.code.contains("AccessDenied"))
                    && (e.message.contains("assume role")
                        || e.message.contains("assume the role")
                        || e.message.contains("not authorized"))
                    && start.elapsed() < IAM_PROPAGATION =>
            {
                tracing::debug!(error = %e, "IAM role not yet usable; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(15));
            }
            other => return other,
        }
    }
}

/// The SDK's retry policy switched off, for one call of any service.
pub fn no_retry_config() -> aws_smithy_types::retry::RetryConfig {
    aws_smithy_types::retry::RetryConfig::disabled()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_take_the_core_duration_grammar_and_refuse_what_it_refuses() {
        let v = Value::map([(
            "timeouts",
            Value::map([
                ("create", Value::from("1h30m")),
                ("update", Value::from("500ms")),
                ("delete", Value::from("5x")),
            ]),
        )]);
        let d = Duration::from_secs(7);
        assert_eq!(timeout(&v, "create", d), Duration::from_secs(5400));
        assert_eq!(timeout(&v, "update", d), Duration::from_millis(500));
        let diags = validate_timeouts(&v);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].summary, "Invalid timeouts.delete");
        assert!(validate_timeouts(&Value::Null).is_empty());
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
