//! aws_iam_policy, aws_iam_role_policy, aws_iam_instance_profile,
//! aws_iam_openid_connect_provider. (aws_iam_role and its policy attachment are in iam_role.rs.)

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_iam::types as t;
use terrane_core::{AttrPath, Attribute, Diagnostic, ResourceSchema, Type, Value};

use super::iam_role::iam_tags;
use super::policy::{keep_equivalent, keep_prior_if_same, url_decode, validate_json, IAM_HINT};
use super::util::{already_exists, changed, missing, opt_s, str_set, strs_of, vanished};
use super::{put, str_of, AwsResource};
use crate::config::Clients;
use crate::error::{absent_ok, retry_dependency, sdk, AwsError};
use crate::tags;

pub struct IamPolicy;
pub struct IamRolePolicy;
pub struct InstanceProfile;
pub struct OidcProvider;

fn tag_map(ts: &[t::Tag]) -> BTreeMap<String, String> {
    ts.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// A name given, or `name_prefix` (default "terrane-") plus the end of the token.
fn name_or_prefix(planned: &Value, token: &str) -> String {
    match str_of(planned, "name") {
        Some(n) => n.to_string(),
        None => format!(
            "{}{}",
            str_of(planned, "name_prefix").unwrap_or("terrane-"),
            &token[token.len().saturating_sub(12)..]
        ),
    }
}

mod instance_profile;
mod oidc_provider;
mod policy;

pub use oidc_provider::github_trust_problems;
