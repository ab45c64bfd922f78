//! aws_ecs_cluster, aws_ecs_task_definition, aws_ecs_service.

use crate::error::OrSdk;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ecs::types as t;
use terrane_core::{Diagnostic, Value};

use crate::config::Clients;
use crate::error::{wait_until, AwsError};
use crate::resources::kind::{AwsResource, Found, Listed, Planning};
use crate::resources::lifecycle::{
    create_then_find, grouped_by, in_order_by, missing, no_retry_config, read_back,
    retry_iam_propagation, timeout, vanished,
};
use crate::resources::value::{
    block, blocks, bool_of, changed, empty_sets_for_null, int_of, num, opt_n, opt_s, put, str_of,
    str_set, string_of, strs_of, text_of,
};
use crate::tags;

pub struct EcsCluster;
pub struct EcsTaskDefinition;
pub struct EcsService;

tag_api! { by arn: sync fn sync_tags = ecs, crate::tags::to_sdk }

mod cluster;
mod service;
mod task_definition;
