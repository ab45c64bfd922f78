//! aws_iam_policy, aws_iam_role_policy, aws_iam_instance_profile,
//! aws_iam_openid_connect_provider, aws_iam_role, aws_iam_role_policy_attachment: one file each;
//! this file holds what they share (IAM's tagging).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_iam::types as t;
use terrane_core::{Diagnostic, Value};

use crate::config::Clients;
use crate::error::{absent_ok, sdk, AwsError, Result};
use crate::resources::kind::{AwsResource, Found, Listed, Planning};
use crate::resources::lifecycle::{
    already_exists, grouped_by, in_order_by, missing, name_or_prefix, read_back, read_each,
    token_tail,
};
use crate::resources::policy::{
    keep_equivalent, keep_prior_if_same, url_decode, validate_json, IAM_HINT,
};
use crate::resources::value::{changed, opt_s, put, str_of, str_set, string_of, strs_of, text_of};
use crate::tags;

pub struct IamPolicy;
pub struct IamRolePolicy;
pub struct InstanceProfile;
pub struct OidcProvider;
pub struct IamRole;
pub struct IamRolePolicyAttachment;

tag_api! { sync fn sync_role_tags = iam:
untag_role.role_name => "UntagRole", tag_role.role_name => "TagRole", crate::tags::to_sdk }
tag_api! { sync fn sync_policy_tags = iam:
untag_policy.policy_arn => "UntagPolicy", tag_policy.policy_arn => "TagPolicy", crate::tags::to_sdk }
tag_api! { sync fn sync_profile_tags = iam: untag_instance_profile.instance_profile_name =>
"UntagInstanceProfile", tag_instance_profile.instance_profile_name => "TagInstanceProfile",
crate::tags::to_sdk }
tag_api! { sync fn sync_oidc_tags = iam: untag_open_id_connect_provider.open_id_connect_provider_arn
=> "UntagOpenIDConnectProvider", tag_open_id_connect_provider.open_id_connect_provider_arn =>
"TagOpenIDConnectProvider", crate::tags::to_sdk }

/// The names of every role, all pages.
async fn role_names(cx: &Clients) -> Result<Vec<String>> {
    let roles: Vec<t::Role> = items!(cx.iam.list_roles(), "ListRoles");
    Ok(roles.iter().map(|r| r.role_name().to_string()).collect())
}

mod instance_profile;
mod oidc_provider;
mod policy;
mod role;
mod role_policy;
mod role_policy_attachment;

pub use oidc_provider::github_trust_problems;
