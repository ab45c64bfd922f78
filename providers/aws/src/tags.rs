//! Tags: `tags` as configured, `tags_all` with the provider's `default_tags` merged in (as the
//! hashicorp/aws provider does), and the token tag that lets an interrupted create be found.

use std::collections::BTreeMap;

use terrane_core::{Value, ValueMap};

/// Tag put on every object Terrane creates, carrying the engine's idempotency token.
pub const TOKEN_TAG: &str = "terrane:token";

/// `tags_all = default_tags + tags` (tags win), unknown while tags are.
pub fn plan_tags_all(defaults: &BTreeMap<String, String>, planned: &mut Value) {
    let Value::Map(m) = planned else { return };
    let tags = m.get("tags").cloned().unwrap_or(Value::Null);
    let all = match tags {
        Value::Unknown => Value::Unknown,
        Value::Map(t) if t.values().any(Value::is_unknown) => Value::Unknown,
        other => {
            let mut all: ValueMap = defaults
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect();
            if let Value::Map(t) = other {
                all.extend(t);
            }
            Value::Map(all)
        }
    };
    m.insert("tags_all".into(), all);
}

/// The tags to put on AWS: `tags_all` from the plan.
pub fn wanted(planned: &Value) -> BTreeMap<String, String> {
    planned
        .get("tags_all")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Splits tags read from AWS into (`tags`, `tags_all`), given the configured `tags` of the
/// prior state: keys that came only from default_tags stay out of `tags`. The token tag is
/// Terrane's own bookkeeping and left out of both; any other tag (`terrane:env` among them) is
/// the user's.
pub fn split(read: BTreeMap<String, String>, prior: &Value) -> (Value, Value) {
    let read: BTreeMap<String, String> = read.into_iter().filter(|(k, _)| k != TOKEN_TAG).collect();
    let all = Value::Map(
        read.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    );
    let configured = prior.get("tags").and_then(Value::as_map);
    let defaults_only = prior
        .get("tags_all")
        .and_then(Value::as_map)
        .map(|m| {
            m.keys()
                .filter(|k| configured.is_none_or(|c| !c.contains_key(*k)))
                .cloned()
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let tags: ValueMap = read
        .iter()
        .filter(|(k, _)| !defaults_only.contains(k))
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    let tags = if tags.is_empty() && prior.get("tags").is_none_or(Value::is_null) {
        Value::Null
    } else {
        Value::Map(tags)
    };
    (tags, all)
}

pub fn ec2_tags(m: &BTreeMap<String, String>, token: Option<&str>) -> Vec<aws_sdk_ec2::types::Tag> {
    let mut v: Vec<_> = m
        .iter()
        .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
        .collect();
    if let Some(t) = token {
        v.push(
            aws_sdk_ec2::types::Tag::builder()
                .key(TOKEN_TAG)
                .value(t)
                .build(),
        );
    }
    v
}

pub fn from_ec2(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// `m` plus the token tag.
pub fn with_token(m: &BTreeMap<String, String>, token: Option<&str>) -> BTreeMap<String, String> {
    let mut m = m.clone();
    if let Some(t) = token {
        m.insert(TOKEN_TAG.to_string(), t.to_string());
    }
    m
}

/// What a tag update must do to go from the prior `tags_all` to the planned one:
/// (keys to remove, tags to add or change).
pub fn diff(prior: &Value, planned: &Value) -> (Vec<String>, BTreeMap<String, String>) {
    let old = wanted(prior);
    let new = wanted(planned);
    let removed = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    let changed = new
        .into_iter()
        .filter(|(k, v)| old.get(k) != Some(v))
        .collect();
    (removed, changed)
}

/// Whether the object carries our token tag.
pub fn has_token(read: &BTreeMap<String, String>, token: &str) -> bool {
    read.get(TOKEN_TAG).map(String::as_str) == Some(token)
}

/// Makes an object's tags equal to the planned `tags_all` with the service's own calls:
/// `untag(keys)` for keys no longer wanted, `tag(tags)` for tags added or changed; neither is
/// called when it has nothing to do.
pub async fn apply_diff<U, UF, T, TF, E>(
    prior: &Value,
    planned: &Value,
    untag: U,
    tag: T,
) -> Result<(), E>
where
    U: FnOnce(Vec<String>) -> UF,
    UF: std::future::Future<Output = Result<(), E>>,
    T: FnOnce(BTreeMap<String, String>) -> TF,
    TF: std::future::Future<Output = Result<(), E>>,
{
    let (removed, changed) = diff(prior, planned);
    if !removed.is_empty() {
        untag(removed).await?;
    }
    if !changed.is_empty() {
        tag(changed).await?;
    }
    Ok(())
}
