//! Data sources, one file each: aws_caller_identity, aws_region, aws_availability_zones,
//! aws_iam_policy_document (computed locally, as in Terraform) and aws_vpc. This file holds what
//! they share.

use crate::resources::value::{string_of, text_of};
use async_trait::async_trait;
use terrane_core::Value;

use super::kind::AwsData;
use super::value::{blocks, opt_s, put, str_map, str_of, strs_of};
use crate::config::Clients;
use crate::error::AwsError;
use crate::tags;

mod availability_zones;
mod caller_identity;
mod policy_document;
mod region;
mod vpc;

pub use availability_zones::AvailabilityZones;
pub use caller_identity::CallerIdentity;
pub use policy_document::PolicyDocument;
pub use region::Region;
pub use vpc::Vpc;
