//! Systems Manager: aws_ssm_parameter. This file holds what its types share.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ssm::types as t;
use terrane_core::{AttrPath, Diagnostic, Value};

use crate::config::Clients;
use crate::error::{sdk, AwsError};
use crate::resources::kind::{AwsResource, Listed};
use crate::resources::lifecycle::{read_each, vanished};
use crate::resources::value::{changed, num, opt_s, put, str_of};
use crate::tags;

pub struct Parameter;

mod parameter;
