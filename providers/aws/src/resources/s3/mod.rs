//! S3: aws_s3_bucket. This file holds what its types share.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_s3::types as t;
use terrane_core::{Diagnostic, Value};

use crate::config::Clients;
use crate::error::AwsError;
use crate::resources::kind::{AwsResource, Listed};
use crate::resources::lifecycle::{name_or_prefix, token_tail};
use crate::resources::lifecycle::{read_each, vanished};
use crate::resources::value::{bool_of, changed, string_of};
use crate::tags;

pub struct Bucket;

mod bucket;
