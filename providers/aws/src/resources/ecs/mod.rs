//! aws_ecs_cluster, aws_ecs_task_definition, aws_ecs_service.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ecs::types as t;
use terrane_core::{AttrPath, Diagnostic, Value};

use crate::config::Clients;
use crate::error::{retry_dependency, sdk, wait_until, AwsError};
use crate::resources::kind::{AwsResource, Listed};
use crate::resources::lifecycle::{
    create_then_find, grouped_by, in_order_by, missing, no_retry_config, retry_iam_propagation,
    timeout, vanished,
};
use crate::resources::value::{
    block, blocks, bool_of, changed, empty_sets_for_null, int_of, num, opt_n, opt_s, put, str_of,
    str_set, strs_of,
};
use crate::tags;

pub struct EcsCluster;
pub struct EcsTaskDefinition;
pub struct EcsService;

fn ecs_tags(m: &BTreeMap<String, String>) -> Vec<t::Tag> {
    m.iter()
        .map(|(k, v)| t::Tag::builder().key(k).value(v).build())
        .collect()
}

fn read_tags(ts: &[t::Tag]) -> BTreeMap<String, String> {
    ts.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// Makes the tags of an ECS object equal to the planned `tags_all`.
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
            cx.ecs
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("UntagResource", e))
        },
        |t| async move {
            cx.ecs
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(ecs_tags(&t)))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("TagResource", e))
        },
    )
    .await
}

/// ECS reports a missing cluster or service in `failures`, not as an error.
fn tags_value(read: BTreeMap<String, String>, prior: &Value) -> (Value, Value) {
    tags::split(read, prior)
}

mod cluster;
mod service;
mod task_definition;
