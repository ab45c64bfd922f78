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

tag_api! { by arn: read fn read_tags = cloudwatch, tags }

tag_api! { by arn: sync fn sync_tags = cloudwatch, crate::tags::to_sdk }

mod metric_alarm;
