//! aws_security_group_rule: one rule of a group, the stand-alone form of the inline
//! `ingress` and `egress` blocks.

use async_trait::async_trait;
use terrane_core::{Diagnostic, Value};

use super::kind::describe_id;
use super::security_group::{from_permission, normalize_rule, to_permission};
use super::SecurityGroup;
use crate::config::Clients;
use crate::error::Result;
use crate::resources::kind::{AwsResource, Listed, Planning};
use crate::resources::value::{bool_of, str_of, text_of};

pub struct SecurityGroupRule;

/// The rule in the shape of an inline `ingress`/`egress` block, normalised.
fn as_block(v: &Value) -> Value {
    let groups = match str_of(v, "source_security_group_id") {
        Some(g) => Value::List(vec![Value::from(g)]),
        None => Value::Null,
    };
    normalize_rule(&Value::map([
        (
            "from_port",
            v.get("from_port").cloned().unwrap_or(Value::Null),
        ),
        ("to_port", v.get("to_port").cloned().unwrap_or(Value::Null)),
        (
            "protocol",
            v.get("protocol").cloned().unwrap_or(Value::Null),
        ),
        (
            "cidr_blocks",
            v.get("cidr_blocks").cloned().unwrap_or(Value::Null),
        ),
        ("security_groups", groups),
        ("self", v.get("self").cloned().unwrap_or(Value::Bool(false))),
        (
            "description",
            v.get("description").cloned().unwrap_or(Value::Null),
        ),
    ]))
}

/// The state of one rule per (rule, other group) of group `own`'s inline blocks (normalised, as
/// `from_permission` and an `ingress`/`egress` attribute make them): the rules that let another
/// group in or out, which AWS requires revoked before that other group can be deleted.
pub(crate) fn group_rules(own: &str, ingress: &[Value], egress: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for (ty, blocks) in [("ingress", ingress), ("egress", egress)] {
        for block in blocks {
            for other in block.strings_at("security_groups") {
                if other == own {
                    continue;
                }
                let field = |k: &str| block.get(k).cloned().unwrap_or(Value::Null);
                let mut v = Value::map([
                    ("type", Value::from(ty)),
                    ("security_group_id", Value::from(own)),
                    ("source_security_group_id", Value::from(other.as_str())),
                    ("from_port", field("from_port")),
                    ("to_port", field("to_port")),
                    ("protocol", field("protocol")),
                ]);
                let id = rule_id(&v);
                crate::resources::value::put(&mut v, "id", Value::from(id));
                out.push(v);
            }
        }
    }
    out
}

/// A stable id from the rule's content, as Terraform's `sgrule-<hash>`.
fn rule_id(v: &Value) -> String {
    let mut b = as_block(v);
    crate::resources::value::put(&mut b, "description", Value::Null);
    let key = format!(
        "{}|{}|{}",
        text_of(v, "security_group_id"),
        text_of(v, "type"),
        b.to_json()
    );
    format!("sgrule-{}", crate::resources::lifecycle::fnv64(&key))
}

enum Change {
    Authorize,
    Revoke,
}

/// Authorizes or revokes the rule `v` describes, by its direction (`type`).
async fn send(cx: &Clients, v: &Value, change: Change) -> Result<()> {
    let group = text_of(v, "security_group_id");
    let perm = to_permission(&as_block(v), group);
    let ec2 = &cx.ec2;
    match (change, str_of(v, "type") == Some("egress")) {
        (Change::Authorize, true) => done!(
            ec2.authorize_security_group_egress()
                .group_id(group)
                .ip_permissions(perm),
            "AuthorizeSecurityGroupEgress"
        ),
        (Change::Authorize, false) => done!(
            ec2.authorize_security_group_ingress()
                .group_id(group)
                .ip_permissions(perm),
            "AuthorizeSecurityGroupIngress"
        ),
        (Change::Revoke, true) => done!(
            ec2.revoke_security_group_egress()
                .group_id(group)
                .ip_permissions(perm),
            "RevokeSecurityGroupEgress"
        ),
        (Change::Revoke, false) => done!(
            ec2.revoke_security_group_ingress()
                .group_id(group)
                .ip_permissions(perm),
            "RevokeSecurityGroupIngress"
        ),
    }
}

#[async_trait]
impl AwsResource for SecurityGroupRule {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        // One object per rule that names another group: the rules a deletion must revoke
        // before either group can go.
        let items = pages!(
            cx.ec2.describe_security_groups(),
            "DescribeSecurityGroups",
            security_groups
        );
        let mut out = Vec::new();
        for g in items {
            let own = g.group_id().unwrap_or_default();
            let blocks = |perms: &[aws_sdk_ec2::types::IpPermission]| -> Vec<Value> {
                perms.iter().map(|p| from_permission(p, own)).collect()
            };
            out.extend(
                group_rules(
                    own,
                    &blocks(g.ip_permissions()),
                    &blocks(g.ip_permissions_egress()),
                )
                .into_iter()
                .map(Listed::new),
            );
        }
        Ok(out)
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let mut d = Vec::new();
        if let Some(t) = str_of(config, "type") {
            if t != "ingress" && t != "egress" {
                d.push(
                    Diagnostic::error(
                        "Invalid type",
                        format!("type must be \"ingress\" or \"egress\" (got {t:?})"),
                    )
                    .for_attribute("type"),
                );
            }
        }
        let sources = [
            config.get("cidr_blocks").is_some_and(|v| !v.is_null()),
            config
                .get("source_security_group_id")
                .is_some_and(|v| !v.is_null()),
            bool_of(config, "self") == Some(true),
        ];
        if sources.iter().filter(|x| **x).count() != 1
            && !config.get("cidr_blocks").is_some_and(Value::is_unknown)
        {
            d.push(Diagnostic::error(
                "Invalid rule source",
                "exactly one of cidr_blocks, source_security_group_id or self must be set",
            ));
        }
        d
    }

    fn adjust_plan(&self, Planning { planned, .. }: Planning<'_>) {
        if planned.contains_unknown() {
            return;
        }
        let id = rule_id(planned);
        crate::resources::value::put(planned, "id", Value::from(id));
    }

    async fn create(&self, cx: &Clients, planned: &Value, _token: &str) -> Result<Value> {
        let res = send(cx, planned, Change::Authorize).await;
        match res {
            Ok(()) => {}
            // A retry after a lost response: the rule is there, and a rule is its content.
            Err(e)
                if e.is("InvalidPermission.Duplicate")
                    && self.read(cx, "", planned).await?.is_some() => {}
            Err(e) => return Err(e),
        }
        let mut v = planned.clone();
        crate::resources::value::put(&mut v, "id", Value::from(rule_id(planned)));
        Ok(v)
    }

    async fn read(&self, cx: &Clients, _id: &str, prior: &Value) -> Result<Option<Value>> {
        // Rules have no id of their own in the API: find the permission with this content.
        let group = text_of(prior, "security_group_id");
        let Some(g) = describe_id::<SecurityGroup>(cx, group).await? else {
            return Ok(None);
        };
        let perms = if str_of(prior, "type") == Some("egress") {
            g.ip_permissions_egress()
        } else {
            g.ip_permissions()
        };
        let want = as_block(prior);
        let key = |v: &Value| {
            (
                v.get("from_port").cloned(),
                v.get("to_port").cloned(),
                v.get("protocol").cloned(),
            )
        };
        let list = |v: &Value, k: &str| -> Vec<Value> {
            v.get(k)
                .and_then(Value::as_list)
                .map(|l| l.to_vec())
                .unwrap_or_default()
        };
        let found = perms
            .iter()
            .map(|p| from_permission(p, group))
            .find(|have| {
                key(have) == key(&want)
                    && list(&want, "cidr_blocks")
                        .iter()
                        .all(|c| list(have, "cidr_blocks").contains(c))
                    && list(&want, "security_groups")
                        .iter()
                        .all(|c| list(have, "security_groups").contains(c))
                    && (bool_of(&want, "self") != Some(true) || bool_of(have, "self") == Some(true))
            });
        Ok(found.map(|have| {
            let mut v = prior.clone();
            crate::resources::value::put(&mut v, "id", Value::from(rule_id(prior)));
            if let Some(d) = have.get("description") {
                crate::resources::value::put(&mut v, "description", d.clone());
            }
            v
        }))
    }

    async fn update(&self, cx: &Clients, _prior: &Value, planned: &Value) -> Result<Value> {
        // Only the description changes in place.
        let group = text_of(planned, "security_group_id");
        let perm = to_permission(&as_block(planned), group);
        if str_of(planned, "type") == Some("egress") {
            call!(
                cx.ec2
                    .update_security_group_rule_descriptions_egress()
                    .group_id(group)
                    .ip_permissions(perm),
                "UpdateSecurityGroupRuleDescriptionsEgress"
            )?;
        } else {
            call!(
                cx.ec2
                    .update_security_group_rule_descriptions_ingress()
                    .group_id(group)
                    .ip_permissions(perm),
                "UpdateSecurityGroupRuleDescriptionsIngress"
            )?;
        }
        Ok(planned.clone())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let res = send(cx, state, Change::Revoke).await;
        match res {
            Err(e) if !e.is_not_found() && !e.code.contains("InvalidPermission.NotFound") => Err(e),
            _ => Ok(()),
        }
    }
}
