//! CloudWatch: aws_cloudwatch_metric_alarm. This file holds what its types share.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatch::types as t;
use terrane_core::Value;

use crate::config::Clients;
use crate::resources::kind::{AwsResource, Listed};
use crate::resources::lifecycle::read_back;
use crate::resources::value::{
    bool_of, opt_n, opt_s, str_map, str_of, str_set, string_of, strs_of, text_of,
};
use crate::tags;

pub struct MetricAlarm;

tag_api! { read fn read_tags = cloudwatch:
list_tags_for_resource.resource_arn => "ListTagsForResource", tags }

tag_api! { sync fn sync_tags = cloudwatch:
untag_resource.resource_arn => "UntagResource", tag_resource.resource_arn => "TagResource",
crate::tags::to_sdk }

mod metric_alarm;
