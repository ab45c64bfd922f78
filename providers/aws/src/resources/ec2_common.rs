//! Shared EC2 helpers: tag synchronisation, lookup by token tag.

use std::collections::BTreeMap;

use terrane_core::Value;

use crate::config::Clients;
use crate::error::{sdk, AwsError};
use crate::tags;

/// Makes the tags of `resource_id` equal to the planned `tags_all`.
pub async fn sync_tags(
    cx: &Clients,
    resource_id: &str,
    prior: &Value,
    planned: &Value,
) -> Result<(), AwsError> {
    let old = tags::wanted(prior);
    let new = tags::wanted(planned);
    let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    if !removed.is_empty() {
        let mut req = cx.ec2.delete_tags().resources(resource_id);
        for k in removed {
            req = req.tags(aws_sdk_ec2::types::Tag::builder().key(k).build());
        }
        req.send().await.map_err(|e| sdk("DeleteTags", e))?;
    }
    let changed: BTreeMap<String, String> = new
        .into_iter()
        .filter(|(k, v)| old.get(k) != Some(v))
        .collect();
    if !changed.is_empty() {
        cx.ec2
            .create_tags()
            .resources(resource_id)
            .set_tags(Some(tags::ec2_tags(&changed, None)))
            .send()
            .await
            .map_err(|e| sdk("CreateTags", e))?;
    }
    Ok(())
}

/// A `tag:terrane:token` filter.
pub fn token_filter(token: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name(format!("tag:{}", tags::TOKEN_TAG))
        .values(token)
        .build()
}
