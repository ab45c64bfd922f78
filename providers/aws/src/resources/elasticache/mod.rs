//! aws_elasticache_subnet_group and aws_elasticache_replication_group (Redis).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticache::types as t;
use terrane_core::Value;

use crate::config::Clients;
use crate::error::{absent_ok, retry_dependency, sdk, wait_until, AwsError};
use crate::resources::kind::{AwsResource, Listed};
use crate::resources::lifecycle::{
    already_exists, in_order_by, missing, states_of, timeout, vanished,
};
use crate::resources::value::{bool_of, changed, int_of, num, opt_s, str_of, str_set, strs_of};
use crate::tags;

/// A refresh reads up to this many objects of a type from one listing (100 per page): for
/// APIs that describe one id or all, a listing of a few pages costs less than a call per id.
const LIST_BATCH: usize = 100;

pub struct SubnetGroup;
pub struct ReplicationGroup;

fn ec_tags(m: &BTreeMap<String, String>) -> Vec<t::Tag> {
    m.iter()
        .map(|(k, v)| t::Tag::builder().key(k).value(v).build())
        .collect()
}

async fn read_tags(cx: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = cx
        .elasticache
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(|e| sdk("ListTagsForResource", e))?;
    Ok(out
        .tag_list()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect())
}

async fn sync_tags(
    cx: &Clients,
    arn: &str,
    prior: &Value,
    planned: &Value,
) -> Result<(), AwsError> {
    tags::apply_diff(
        prior,
        planned,
        |keys| async move {
            cx.elasticache
                .remove_tags_from_resource()
                .resource_name(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("RemoveTagsFromResource", e))
        },
        |t| async move {
            cx.elasticache
                .add_tags_to_resource()
                .resource_name(arn)
                .set_tags(Some(ec_tags(&t)))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("AddTagsToResource", e))
        },
    )
    .await
}

// ---------------------------------------------------------------- aws_elasticache_subnet_group

mod replication_group;
mod subnet_group;
