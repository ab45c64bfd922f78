//! aws_ecr_repository, aws_ecr_lifecycle_policy and data "aws_ecr_image".

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ecr::types as t;
use terrane_core::{AttrPath, Diagnostic, Value};

use crate::config::Clients;
use crate::error::{absent_ok, sdk, AwsError};
use crate::resources::kind::{AwsResource, Listed};
use crate::resources::lifecycle::{
    already_exists, many_or_each, missing, read_each, states_of, vanished,
};
use crate::resources::policy::{keep_equivalent, keep_prior_if_same, validate_json};
use crate::resources::value::{block, bool_of, changed, opt_s, str_of};
use crate::tags;

pub struct Repository;
pub struct LifecyclePolicy;
pub use image::Image;

fn ecr_tags(m: &BTreeMap<String, String>) -> Vec<t::Tag> {
    m.iter()
        .filter_map(|(k, v)| t::Tag::builder().key(k).value(v).build().ok())
        .collect()
}

async fn read_tags(cx: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = cx
        .ecr
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| sdk("ListTagsForResource", e))?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

mod image;
mod lifecycle_policy;
mod repository;
