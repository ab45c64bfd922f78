//! aws_elasticache_subnet_group and aws_elasticache_replication_group (Redis).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticache::types as t;
use terrane_core::Value;

use crate::config::Clients;
use crate::error::{wait_until, AwsError};
use crate::resources::kind::{AwsResource, Listed};
use crate::resources::lifecycle::{
    already_exists, in_order_by, missing, states_of, timeout, vanished,
};
use crate::resources::value::{
    bool_of, changed, int_of, num, opt_s, str_of, str_set, string_of, strs_of, text_of,
};
use crate::tags;

/// A refresh reads up to this many objects of a type from one listing (100 per page): for
/// APIs that describe one id or all, a listing of a few pages costs less than a call per id.
const LIST_BATCH: usize = 100;

pub struct SubnetGroup;
pub struct ReplicationGroup;

tag_api! { read fn read_tags = elasticache:
list_tags_for_resource.resource_name => "ListTagsForResource", tag_list }

tag_api! { sync fn sync_tags = elasticache:
remove_tags_from_resource.resource_name => "RemoveTagsFromResource",
add_tags_to_resource.resource_name => "AddTagsToResource", crate::tags::to_sdk }

// ---------------------------------------------------------------- aws_elasticache_subnet_group

mod replication_group;
mod subnet_group;
