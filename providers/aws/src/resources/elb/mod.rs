//! aws_lb, aws_lb_target_group, aws_lb_listener, aws_lb_listener_rule,
//! aws_lb_target_group_attachment (Elastic Load Balancing v2).

use crate::error::OrSdk;
use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types as t;
use terrane_core::{Diagnostic, Value};

use crate::config::Clients;
use crate::error::{absent_ok, delete_and_wait, wait_until, AwsError, Result};
use crate::resources::kind::{AwsResource, Listed};
use crate::resources::lifecycle::{
    create_then_find, many_or_each, missing, no_retry_config, read_back, read_each, states_of,
    timeout,
};
use crate::resources::value::{
    block, blocks, bool_of, changed, int_of, num, opt_n, opt_s, put, str_of, str_set, string_of,
    strs_of, text_of,
};
use crate::tags;

pub struct Lb;
pub struct TargetGroup;
pub struct Listener;
pub struct ListenerRule;
pub struct TargetGroupAttachment;

/// DescribeTags answers for at most this many ARNs.
const TAGS_BATCH: usize = 20;

async fn read_tags(cx: &Clients, arn: &str) -> Result<BTreeMap<String, String>> {
    Ok(read_tags_many(cx, &[arn.to_string()])
        .await?
        .remove(arn)
        .unwrap_or_default())
}

/// The tags of each of `arns`, twenty per DescribeTags.
async fn read_tags_many(
    cx: &Clients,
    arns: &[String],
) -> Result<std::collections::HashMap<String, BTreeMap<String, String>>> {
    let mut out = std::collections::HashMap::new();
    for chunk in arns.chunks(TAGS_BATCH) {
        let got = call!(
            cx.elbv2
                .describe_tags()
                .set_resource_arns(Some(chunk.to_vec())),
            "DescribeTags"
        )?;
        for d in got.tag_descriptions() {
            let tags = tags::from_sdk(d.tags());
            out.insert(d.resource_arn().unwrap_or_default().to_string(), tags);
        }
    }
    Ok(out)
}

tag_api! { sync fn sync_tags = elbv2:
remove_tags.resource_arns => "RemoveTags", add_tags.resource_arns => "AddTags",
crate::tags::to_sdk }

/// The first of `arns` that carries `token` (a create whose answer was lost).
async fn by_token(cx: &Clients, arns: Vec<String>, token: &str) -> Result<Option<String>> {
    for arn in arns {
        if tags::has_token(&read_tags(cx, &arn).await?, token) {
            return Ok(Some(arn));
        }
    }
    Ok(None)
}

/// Config for one call without the SDK's blind retries (see `create_then_find`).
fn no_retry() -> aws_sdk_elasticloadbalancingv2::config::Builder {
    aws_sdk_elasticloadbalancingv2::config::Builder::default().retry_config(no_retry_config())
}

fn create_tags(planned: &Value, token: &str) -> Option<Vec<t::Tag>> {
    Some(tags::for_create(planned, token))
}

/// The part of an ARN after `prefix` ("loadbalancer/", "targetgroup/"), as CloudWatch names it.
fn arn_suffix(arn: &str, prefix: &str) -> String {
    arn.split_once(&format!(":{prefix}"))
        .map(|(_, s)| {
            format!(
                "{}{s}",
                if prefix == "targetgroup/" {
                    "targetgroup/"
                } else {
                    ""
                }
            )
        })
        .unwrap_or_default()
}

/// Every load balancer, all pages.
async fn load_balancers(cx: &Clients) -> Result<Vec<t::LoadBalancer>> {
    let items = pages!(
        cx.elbv2.describe_load_balancers(),
        "DescribeLoadBalancers",
        load_balancers
    );
    Ok(items.collect())
}

/// Every target group, all pages.
async fn target_groups(cx: &Clients) -> Result<Vec<t::TargetGroup>> {
    let items = pages!(
        cx.elbv2.describe_target_groups(),
        "DescribeTargetGroups",
        target_groups
    );
    Ok(items.collect())
}

/// Every listener of every load balancer.
async fn listeners(cx: &Clients) -> Result<Vec<t::Listener>> {
    let mut out = Vec::new();
    for lb in load_balancers(cx).await? {
        let items = pages!(
            cx.elbv2
                .describe_listeners()
                .load_balancer_arn(lb.load_balancer_arn().unwrap_or_default()),
            "DescribeListeners",
            listeners
        );
        out.extend(items);
    }
    Ok(out)
}

/// The one object `$req` (a describe call) finds by ARN (`$by_arn`) or by name, or `None`:
/// `describe_one!(cx.elbv2.describe_target_groups(), arn, target_group_arns, "DescribeTargetGroups", target_groups)`.
macro_rules! describe_one {
    ($req:expr, $key:expr, $by_arn:ident, $op:literal, $list:ident) => {{
        let req = $req;
        let req = if $key.starts_with("arn:") {
            req.$by_arn($key)
        } else {
            req.names($key)
        };
        found!(req, $op, $list[0])
    }};
}

/// [`create_then_find`] for ELBv2: `$req` sent once per attempt (the SDK's own retries off),
/// the new object's ARN read from the first of its answer's `$list`; after a lost answer, the
/// object is the one with the token tag among the ARNs `$candidates` (a block that may use `?`)
/// gives, or the ARNs of the same `$list` in the answer of the call `among LISTING => "Op"`:
/// `create!(cx, req, "CreateRule", rules.rule_arn, token, among listing => "DescribeRules")?`.
macro_rules! create {
    ($cx:expr, $req:expr, $op:literal, $list:ident . $arn:ident, $token:expr,
        among $listing:expr => $lop:literal) => {
        create!($cx, $req, $op, $list.$arn, $token, {
            let out = call!($listing, $lop)?;
            let arns = out.$list().iter().filter_map(|x| x.$arn());
            arns.map(String::from).collect()
        })
    };
    ($cx:expr, $req:expr, $op:literal, $list:ident . $arn:ident, $token:expr, $candidates:block) => {
        create_then_find(
            $op,
            || $req.clone().customize().config_override(no_retry()).send(),
            |out| {
                out.$list
                    .and_then(|l| l.into_iter().next())
                    .and_then(|l| l.$arn)
            },
            || async {
                let arns: Vec<String> = $candidates;
                by_token($cx, arns, $token).await
            },
        )
        .await
    };
}

mod action;
mod lb;
mod listener;
mod listener_rule;
mod target_group;
mod target_group_attachment;

use action::{actions, actions_state, validate_actions};

/// AWS takes at most 32 characters in a load balancer's or a target group's name: a longer one
/// (an environment prefix too long for the names a module builds from it) is an error at plan,
/// before anything is created.
pub(super) fn validate_name_length(config: &Value, what: &str) -> Vec<Diagnostic> {
    match config.get("name").and_then(Value::as_str) {
        Some(n) if n.chars().count() > 32 => vec![Diagnostic::error(
            "Name too long",
            format!(
                "{what} names take at most 32 characters; {n:?} has {}. Use a shorter name (or a shorter environment prefix).",
                n.chars().count()
            ),
        )
        .for_attribute("name")],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn names_longer_than_aws_takes_are_refused_at_plan() {
        let ok = Value::map([("name", Value::from("automation-1a2b3c4d-alb"))]);
        assert!(validate_name_length(&ok, "Load balancer").is_empty());
        let long = Value::map([("name", Value::from("a-very-long-team-prefix-1a2b3c4d-alb"))]);
        let d = validate_name_length(&long, "Load balancer");
        assert_eq!(d.len(), 1);
        assert!(d[0].detail.contains("has 36"), "{:?}", d[0]);
        // Unknown until apply: nothing to check yet.
        let unknown = Value::map([("name", Value::Unknown)]);
        assert!(validate_name_length(&unknown, "Target group").is_empty());
    }
}
