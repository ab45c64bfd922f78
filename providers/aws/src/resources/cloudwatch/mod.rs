//! CloudWatch: aws_cloudwatch_metric_alarm. This file holds what its types share.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatch::types as t;
use terrane_core::Value;

use crate::config::Clients;
use crate::error::{sdk, AwsError};
use crate::resources::kind::{AwsResource, Listed};
use crate::resources::lifecycle::vanished;
use crate::resources::value::{bool_of, opt_n, opt_s, str_map, str_of, str_set, strs_of};
use crate::tags;

pub struct MetricAlarm;

/// The tags of a CloudWatch resource, by ARN.
async fn read_tags(cx: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = cx
        .cloudwatch
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| sdk("ListTagsForResource", e))?;
    Ok(out
        .tags
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| Some((t.key?, t.value?)))
        .collect())
}

fn cw_tags(m: &BTreeMap<String, String>) -> Vec<t::Tag> {
    m.iter()
        .map(|(k, v)| t::Tag::builder().key(k).value(v).build())
        .collect()
}

/// Makes the tags of `arn` those planned.
async fn sync_tags(
    cx: &Clients,
    arn: &str,
    prior: &Value,
    planned: &Value,
) -> Result<(), AwsError> {
    let (removed, added) = tags::diff(prior, planned);
    if !removed.is_empty() {
        cx.cloudwatch
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| sdk("UntagResource", e))?;
    }
    if !added.is_empty() {
        cx.cloudwatch
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(cw_tags(&added)))
            .send()
            .await
            .map_err(|e| sdk("TagResource", e))?;
    }
    Ok(())
}

mod metric_alarm;
