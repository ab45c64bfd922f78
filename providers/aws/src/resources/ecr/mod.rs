//! aws_ecr_repository, aws_ecr_lifecycle_policy and data "aws_ecr_image".

use crate::error::OrSdk;
use async_trait::async_trait;
use aws_sdk_ecr::types as t;
use terrane_core::{Diagnostic, Value};

use crate::config::Clients;
use crate::error::{absent_ok, AwsError};
use crate::resources::kind::{AwsResource, Listed, Planning};
use crate::resources::lifecycle::{already_exists, many_or_each, missing, read_each, states_of};
use crate::resources::policy::{keep_equivalent, keep_prior_if_same, validate_json};
use crate::resources::value::{block, bool_of, changed, opt_s, str_of, string_of, text_of};
use crate::tags;

pub struct Repository;
pub struct LifecyclePolicy;
pub use image::Image;

tag_api! { by arn: read fn read_tags = ecr, tags }

tag_api! { by arn: sync fn sync_tags = ecr, crate::tags::to_sdk }

mod image;
mod lifecycle_policy;
mod repository;
