//! aws_security_group with inline `ingress` and `egress` rules. As in hashicorp/aws, the
//! default allow-all egress rule AWS adds to a new group is removed: rules are exactly the ones
//! configured. Omitted ingress/egress blocks leave the group's rules unmanaged.

use crate::error::OrSdk;
use crate::resources::lifecycle::{name_or_prefix, token_tail};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, UserIdGroupPair};
use terrane_core::schema::dedup_set;
use terrane_core::Value;

use super::kind::{ec2_describe, must_exist, Ec2Type};
use crate::config::Clients;
use crate::error::Result;
use crate::resources::kind::Planning;
use crate::resources::value::{str_of, string_of};
use crate::tags;

pub struct SecurityGroup;

const DELETE_TIMEOUT: Duration = Duration::from_secs(900);

/// A rule as stored: protocol normalised (`all` is `-1`), empty lists as null.
pub(super) fn normalize_rule(r: &Value) -> Value {
    let proto = match str_of(r, "protocol").unwrap_or("-1") {
        "all" | "-1" => "-1".to_string(),
        p => p.to_lowercase(),
    };
    let list = |k: &str| match r.get(k).and_then(Value::as_list) {
        Some(l) if !l.is_empty() => {
            let mut v = l.to_vec();
            dedup_set(&mut v);
            Value::List(v)
        }
        _ => Value::Null,
    };
    let port = |k: &str| {
        Value::Number(if proto == "-1" {
            0.0
        } else {
            r.get(k).and_then(Value::as_f64).unwrap_or(0.0)
        })
    };
    Value::map([
        ("from_port", port("from_port")),
        ("to_port", port("to_port")),
        ("protocol", Value::from(proto.as_str())),
        ("cidr_blocks", list("cidr_blocks")),
        ("security_groups", list("security_groups")),
        (
            "self",
            Value::Bool(r.get("self").and_then(Value::as_bool).unwrap_or(false)),
        ),
        (
            "description",
            r.get("description")
                .cloned()
                .filter(|d| d.as_str() != Some(""))
                .unwrap_or(Value::Null),
        ),
    ])
}

fn rules(v: &Value, k: &str) -> Vec<Value> {
    let mut out: Vec<Value> = v
        .get(k)
        .and_then(Value::as_list)
        .map(|l| l.iter().map(normalize_rule).collect())
        .unwrap_or_default();
    dedup_set(&mut out);
    out
}

pub(super) fn to_permission(r: &Value, own_id: &str) -> IpPermission {
    let mut p = IpPermission::builder().ip_protocol(str_of(r, "protocol").unwrap_or("-1"));
    if str_of(r, "protocol") != Some("-1") {
        p = p
            .from_port(r.get("from_port").and_then(Value::as_f64).unwrap_or(0.0) as i32)
            .to_port(r.get("to_port").and_then(Value::as_f64).unwrap_or(0.0) as i32);
    }
    let desc = str_of(r, "description");
    for c in r.get("cidr_blocks").and_then(Value::as_list).unwrap_or(&[]) {
        p = p.ip_ranges(
            IpRange::builder()
                .cidr_ip(c.as_str().unwrap_or_default())
                .set_description(desc.map(String::from))
                .build(),
        );
    }
    for g in r
        .get("security_groups")
        .and_then(Value::as_list)
        .unwrap_or(&[])
    {
        p = p.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(g.as_str().unwrap_or_default())
                .set_description(desc.map(String::from))
                .build(),
        );
    }
    if r.get("self").and_then(Value::as_bool) == Some(true) {
        p = p.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(own_id)
                .set_description(desc.map(String::from))
                .build(),
        );
    }
    p.build()
}

pub(super) fn from_permission(p: &IpPermission, own_id: &str) -> Value {
    let cidrs: Vec<Value> = p
        .ip_ranges()
        .iter()
        .filter_map(|r| r.cidr_ip().map(Value::from))
        .collect();
    let groups: Vec<Value> = p
        .user_id_group_pairs()
        .iter()
        .filter_map(|g| g.group_id())
        .filter(|g| *g != own_id)
        .map(Value::from)
        .collect();
    let own = p
        .user_id_group_pairs()
        .iter()
        .any(|g| g.group_id() == Some(own_id));
    let desc = p
        .ip_ranges()
        .iter()
        .find_map(|r| r.description())
        .or_else(|| p.user_id_group_pairs().iter().find_map(|g| g.description()));
    normalize_rule(&Value::map([
        (
            "from_port",
            Value::Number(p.from_port().unwrap_or(0) as f64),
        ),
        ("to_port", Value::Number(p.to_port().unwrap_or(0) as f64)),
        ("protocol", Value::from(p.ip_protocol().unwrap_or("-1"))),
        ("cidr_blocks", Value::List(cidrs)),
        ("security_groups", Value::List(groups)),
        ("self", Value::Bool(own)),
        ("description", desc.map(Value::from).unwrap_or(Value::Null)),
    ]))
}

fn to_state(cx: &Clients, g: aws_sdk_ec2::types::SecurityGroup, prior: &Value) -> Value {
    let id = g.group_id().unwrap_or_default().to_string();
    let owner = g.owner_id().unwrap_or_default().to_string();
    let mut ingress: Vec<Value> = g
        .ip_permissions()
        .iter()
        .map(|p| from_permission(p, &id))
        .collect();
    let mut egress: Vec<Value> = g
        .ip_permissions_egress()
        .iter()
        .map(|p| from_permission(p, &id))
        .collect();
    dedup_set(&mut ingress);
    dedup_set(&mut egress);
    let tags = tags::from_sdk(g.tags());
    tags::tagged(
        Value::map([
            ("arn", super::arn(cx, &owner, "security-group", &id)),
            ("id", Value::from(id)),
            ("name", Value::from(g.group_name().unwrap_or_default())),
            (
                "name_prefix",
                prior.get("name_prefix").cloned().unwrap_or(Value::Null),
            ),
            (
                "description",
                Value::from(g.description().unwrap_or_default()),
            ),
            ("vpc_id", g.vpc_id().map(Value::from).unwrap_or(Value::Null)),
            ("owner_id", Value::from(owner)),
            ("ingress", Value::List(ingress)),
            ("egress", Value::List(egress)),
            (
                "revoke_rules_on_delete",
                prior
                    .get("revoke_rules_on_delete")
                    .cloned()
                    .unwrap_or(Value::Bool(false)),
            ),
        ]),
        tags,
        prior,
    )
}

async fn apply_rules(
    cx: &Clients,
    id: &str,
    old_in: &[Value],
    new_in: &[Value],
    old_out: &[Value],
    new_out: &[Value],
) -> Result<()> {
    // The rules of `a` that `b` lacks, as permissions of this group.
    let missing = |a: &[Value], b: &[Value]| -> Vec<IpPermission> {
        a.iter()
            .filter(|r| !b.contains(r))
            .map(|r| to_permission(r, id))
            .collect()
    };
    // Revokes first, so that a changed rule is never there twice. The four calls take the
    // group and its permissions alike.
    macro_rules! call {
        ($perms:expr, $method:ident, $op:literal) => {
            let perms = $perms;
            if !perms.is_empty() {
                let req = cx
                    .ec2
                    .$method()
                    .group_id(id)
                    .set_ip_permissions(Some(perms));
                req.send().await.or_sdk($op)?;
            }
        };
    }
    call!(
        missing(old_in, new_in),
        revoke_security_group_ingress,
        "RevokeSecurityGroupIngress"
    );
    call!(
        missing(old_out, new_out),
        revoke_security_group_egress,
        "RevokeSecurityGroupEgress"
    );
    call!(
        missing(new_in, old_in),
        authorize_security_group_ingress,
        "AuthorizeSecurityGroupIngress"
    );
    call!(
        missing(new_out, old_out),
        authorize_security_group_egress,
        "AuthorizeSecurityGroupEgress"
    );
    Ok(())
}

#[async_trait]
impl Ec2Type for SecurityGroup {
    ec2_describe!(
        SecurityGroup,
        "DescribeSecurityGroups",
        "group-id",
        "security group",
        group_id,
        describe_security_groups.security_groups
    );

    async fn state(cx: &Clients, d: Self::Desc, prior: &Value) -> Result<Value> {
        Ok(to_state(cx, d, prior))
    }

    fn made_by_aws_alone(g: &Self::Desc) -> bool {
        g.group_name() == Some("default")
    }

    fn adjust_plan(&self, p: Planning<'_>) {
        let (prior, config, planned) = (p.prior, p.config, p.planned);
        for k in ["ingress", "egress"] {
            let configured = config
                .get(k)
                .and_then(Value::as_list)
                .is_some_and(|l| !l.is_empty());
            let v = if configured {
                if planned.get(k).is_some_and(Value::is_unknown) {
                    continue;
                }
                Value::List(rules(planned, k))
            } else {
                // Not configured: not managed; whatever the group has stays.
                prior
                    .and_then(|p| p.get(k))
                    .cloned()
                    .unwrap_or(Value::List(Vec::new()))
            };
            crate::resources::value::put(planned, k, v);
        }
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let name = name_or_prefix(planned, "name", token_tail(token, 12));
        let mut req = cx
            .ec2
            .create_security_group()
            .group_name(&name)
            .description(str_of(planned, "description").unwrap_or("Managed by Terraform"))
            .tag_specifications(super::tag_spec(ResourceType::SecurityGroup, planned, token));
        if let Some(v) = str_of(planned, "vpc_id") {
            req = req.vpc_id(v);
        }
        let id = super::create_once!(
            cx,
            req,
            "CreateSecurityGroup",
            "security-group",
            token,
            group_id
        )?;
        let g = must_exist::<SecurityGroup>(cx, &id).await?;
        // Start from AWS's rules (the default egress), end with exactly the configured ones.
        let current = to_state(cx, g, planned);
        let (cur_in, cur_out) = (rules(&current, "ingress"), rules(&current, "egress"));
        apply_rules(
            cx,
            &id,
            &cur_in,
            &rules(planned, "ingress"),
            &cur_out,
            &rules(planned, "egress"),
        )
        .await?;
        let g = must_exist::<SecurityGroup>(cx, &id).await?;
        Ok(to_state(cx, g, planned))
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let id = string_of(prior, "id");
        apply_rules(
            cx,
            &id,
            &rules(prior, "ingress"),
            &rules(planned, "ingress"),
            &rules(prior, "egress"),
            &rules(planned, "egress"),
        )
        .await
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let id = string_of(state, "id");
        if state.get("revoke_rules_on_delete").and_then(Value::as_bool) == Some(true) {
            // A rule that names a group deleted meanwhile is gone with it (InvalidGroup.NotFound).
            crate::error::gone_ok(
                apply_rules(
                    cx,
                    &id,
                    &rules(state, "ingress"),
                    &[],
                    &rules(state, "egress"),
                    &[],
                )
                .await,
            )?;
        }
        delete_retrying!(
            state,
            DELETE_TIMEOUT,
            cx.ec2.delete_security_group().group_id(&id),
            "DeleteSecurityGroup"
        )
    }
}
