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
    crate::resources::value::str_map(planned, "tags_all")
}

/// The tags a create sends: the planned `tags_all` and the token tag that finds the object
/// again after a lost answer ([`with_token`]).
pub fn for_create_map(planned: &Value, token: &str) -> BTreeMap<String, String> {
    with_token(&wanted(planned), Some(token))
}

/// [`for_create_map`] as the service's SDK tags: `.set_tags(Some(tags::for_create(planned, token)))`.
pub fn for_create<T: SdkTag>(planned: &Value, token: &str) -> Vec<T> {
    to_sdk(&for_create_map(planned, token))
}

/// A state map with `tags` and `tags_all` from the tags read from AWS, as [`split`] makes them.
pub fn tagged(state: Value, read: BTreeMap<String, String>, prior: &Value) -> Value {
    let (tags, tags_all) = split(read, prior);
    match state {
        Value::Map(mut m) => {
            m.insert("tags".into(), tags);
            m.insert("tags_all".into(), tags_all);
            Value::Map(m)
        }
        other => other,
    }
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

/// A service's SDK tag type, one key and one value: how a map of tags becomes the service's
/// tags ([`to_sdk`]) and back ([`from_sdk`]).
pub trait SdkTag: Sized {
    fn pair(&self) -> Option<(String, String)>;
    fn make(key: &str, value: &str) -> Option<Self>;
}

/// [`SdkTag`] for a service's tag type: `sdk_tag!(T)` where the SDK makes the key and value
/// optional, `sdk_tag!(T, required)` where both are required (and the builder can fail).
macro_rules! sdk_tag {
    ($t:ty) => {
        impl SdkTag for $t {
            fn pair(&self) -> Option<(String, String)> {
                let value = self.value().unwrap_or_default();
                Some((self.key()?.to_string(), value.to_string()))
            }
            fn make(key: &str, value: &str) -> Option<Self> {
                Some(<$t>::builder().key(key).value(value).build())
            }
        }
    };
    ($t:ty, required) => {
        impl SdkTag for $t {
            fn pair(&self) -> Option<(String, String)> {
                Some((self.key().to_string(), self.value().to_string()))
            }
            fn make(key: &str, value: &str) -> Option<Self> {
                <$t>::builder().key(key).value(value).build().ok()
            }
        }
    };
}

sdk_tag!(aws_sdk_ec2::types::Tag);
sdk_tag!(aws_sdk_ecs::types::Tag);
sdk_tag!(aws_sdk_elasticloadbalancingv2::types::Tag);
sdk_tag!(aws_sdk_elasticache::types::Tag);
sdk_tag!(aws_sdk_cloudwatch::types::Tag);
sdk_tag!(aws_sdk_ecr::types::Tag, required);
sdk_tag!(aws_sdk_iam::types::Tag, required);
sdk_tag!(aws_sdk_ssm::types::Tag, required);

/// The service's tags for `m`.
pub fn to_sdk<T: SdkTag>(m: &BTreeMap<String, String>) -> Vec<T> {
    m.iter().filter_map(|(k, v)| T::make(k, v)).collect()
}

/// The tags an object carries, as a map.
pub fn from_sdk<T: SdkTag>(tags: &[T]) -> BTreeMap<String, String> {
    tags.iter().filter_map(SdkTag::pair).collect()
}

/// The tags as the services that take a map want them (EKS, CloudWatch Logs).
pub fn to_hash_map(m: &BTreeMap<String, String>) -> std::collections::HashMap<String, String> {
    m.clone().into_iter().collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn tags_go_to_each_services_type_and_back() {
        let m = map(&[("env", "dev"), ("team", "")]);
        let ecs: Vec<aws_sdk_ecs::types::Tag> = to_sdk(&m);
        assert_eq!(from_sdk(&ecs), m);
        let planned = Value::map([(
            "tags_all",
            Value::map(m.iter().map(|(k, v)| (k.as_str(), Value::from(v.as_str())))),
        )]);
        let iam: Vec<aws_sdk_iam::types::Tag> = for_create(&planned, "tok");
        assert_eq!(iam.len(), 3);
        let back = from_sdk(&iam);
        assert!(has_token(&back, "tok"));
        assert_eq!(back.get("env").map(String::as_str), Some("dev"));
        // A tag without a key (the SDK allows one where the key is optional) is no tag.
        let keyless = [aws_sdk_ec2::types::Tag::builder().value("v").build()];
        assert!(from_sdk(&keyless).is_empty());
    }

    #[test]
    fn diff_removes_keys_no_longer_planned_and_adds_changed_ones() {
        let tags_all = |pairs: &[(&str, &str)]| {
            Value::map([(
                "tags_all",
                Value::Map(
                    pairs
                        .iter()
                        .map(|(k, v)| (k.to_string(), Value::from(*v)))
                        .collect(),
                ),
            )])
        };
        let (removed, changed) = diff(
            &tags_all(&[("a", "1"), ("b", "2"), ("c", "3")]),
            &tags_all(&[("a", "1"), ("b", "20"), ("d", "4")]),
        );
        assert_eq!(removed, vec!["c".to_string()]);
        assert_eq!(changed, map(&[("b", "20"), ("d", "4")]));
    }
}
