//! aws_route (one route in a route table) and aws_security_group_rule (one rule of a group),
//! the stand-alone forms of the inline `route` and `ingress`/`egress` blocks.

use async_trait::async_trait;
use terrane_core::{AttrPath, Attribute, Diagnostic, ResourceSchema, Type, Value};

use super::security_group::{
    describe as describe_sg, from_permission, normalize_rule, to_permission,
};
use super::util::{opt_s, vanished};
use super::{bool_of, str_of, AwsResource};
use crate::config::Clients;
use crate::error::{sdk, AwsError};

pub struct Route;
pub struct SecurityGroupRule;

const TARGETS: &[&str] = &[
    "gateway_id",
    "nat_gateway_id",
    "network_interface_id",
    "vpc_peering_connection_id",
    "transit_gateway_id",
];

async fn find_route(
    cx: &Clients,
    table: &str,
    cidr: &str,
) -> Result<Option<aws_sdk_ec2::types::Route>, AwsError> {
    let out = match cx
        .ec2
        .describe_route_tables()
        .route_table_ids(table)
        .send()
        .await
        .map_err(|e| sdk("DescribeRouteTables", e))
    {
        Ok(o) => o,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(out
        .route_tables()
        .first()
        .and_then(|t| {
            t.routes()
                .iter()
                .find(|r| r.destination_cidr_block() == Some(cidr))
        })
        .cloned())
}

fn route_state(table: &str, r: &aws_sdk_ec2::types::Route) -> Value {
    let cidr = r.destination_cidr_block().unwrap_or_default();
    Value::map([
        ("id", Value::from(format!("{table}_{cidr}"))),
        ("route_table_id", Value::from(table)),
        ("destination_cidr_block", Value::from(cidr)),
        ("gateway_id", opt_s(r.gateway_id())),
        ("nat_gateway_id", opt_s(r.nat_gateway_id())),
        ("network_interface_id", opt_s(r.network_interface_id())),
        (
            "vpc_peering_connection_id",
            opt_s(r.vpc_peering_connection_id()),
        ),
        ("transit_gateway_id", opt_s(r.transit_gateway_id())),
        ("origin", opt_s(r.origin().map(|o| o.as_str()))),
        ("state", opt_s(r.state().map(|s| s.as_str()))),
    ])
}

#[async_trait]
impl AwsResource for Route {
    fn name(&self) -> &'static str {
        "aws_route"
    }

    fn taggable(&self) -> bool {
        false
    }

    fn schema(&self) -> ResourceSchema {
        let mut s = ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("origin", Attribute::computed(Type::String))
            .attr("state", Attribute::computed(Type::String))
            .attr(
                "route_table_id",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "destination_cidr_block",
                Attribute::required(Type::String).force_new(),
            );
        for t in TARGETS {
            s = s.attr(t, Attribute::optional(Type::String));
        }
        s
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let set = TARGETS
            .iter()
            .filter(|t| config.get(t).is_some_and(|v| !v.is_null()))
            .count();
        if set == 1 || config.get("gateway_id").is_some_and(Value::is_unknown) {
            return Vec::new();
        }
        vec![Diagnostic::error(
            "Invalid route target",
            format!(
                "exactly one of {} must be set (found {set})",
                TARGETS.join(", ")
            ),
        )]
    }

    async fn create(&self, cx: &Clients, planned: &Value, _token: &str) -> Result<Value, AwsError> {
        let table = str_of(planned, "route_table_id").unwrap_or_default();
        let cidr = str_of(planned, "destination_cidr_block").unwrap_or_default();
        let mut req = cx
            .ec2
            .create_route()
            .route_table_id(table)
            .destination_cidr_block(cidr)
            .set_gateway_id(str_of(planned, "gateway_id").map(String::from))
            .set_nat_gateway_id(str_of(planned, "nat_gateway_id").map(String::from))
            .set_network_interface_id(str_of(planned, "network_interface_id").map(String::from))
            .set_vpc_peering_connection_id(
                str_of(planned, "vpc_peering_connection_id").map(String::from),
            );
        if let Some(t) = str_of(planned, "transit_gateway_id") {
            req = req.transit_gateway_id(t);
        }
        if let Err(e) = req.send().await.map_err(|e| sdk("CreateRoute", e)) {
            // A retry after a lost response finds the same route: not a duplicate.
            let same = e.is("RouteAlreadyExists")
                && find_route(cx, table, cidr).await?.is_some_and(|r| {
                    let s = route_state(table, &r);
                    TARGETS.iter().all(|t| s.get(t) == planned.get(t))
                });
            if !same {
                return Err(e);
            }
        }
        let r = find_route(cx, table, cidr)
            .await?
            .ok_or_else(|| vanished("DescribeRouteTables", "route", cidr))?;
        Ok(route_state(table, &r))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        // Id and import id: `rtb-..._10.0.0.0/16`.
        let (table, cidr) = match (
            str_of(prior, "route_table_id"),
            str_of(prior, "destination_cidr_block"),
        ) {
            (Some(t), Some(c)) => (t.to_string(), c.to_string()),
            _ => match id.split_once('_') {
                Some((t, c)) => (t.to_string(), c.to_string()),
                None => return Ok(None),
            },
        };
        Ok(find_route(cx, &table, &cidr)
            .await?
            .map(|r| route_state(&table, &r)))
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let table = str_of(prior, "route_table_id").unwrap_or_default();
        let cidr = str_of(prior, "destination_cidr_block").unwrap_or_default();
        let mut req = cx
            .ec2
            .replace_route()
            .route_table_id(table)
            .destination_cidr_block(cidr)
            .set_gateway_id(str_of(planned, "gateway_id").map(String::from))
            .set_nat_gateway_id(str_of(planned, "nat_gateway_id").map(String::from))
            .set_network_interface_id(str_of(planned, "network_interface_id").map(String::from))
            .set_vpc_peering_connection_id(
                str_of(planned, "vpc_peering_connection_id").map(String::from),
            );
        if let Some(t) = str_of(planned, "transit_gateway_id") {
            req = req.transit_gateway_id(t);
        }
        req.send().await.map_err(|e| sdk("ReplaceRoute", e))?;
        let r = find_route(cx, table, cidr)
            .await?
            .ok_or_else(|| vanished("DescribeRouteTables", "route", cidr))?;
        Ok(route_state(table, &r))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        match cx
            .ec2
            .delete_route()
            .route_table_id(str_of(state, "route_table_id").unwrap_or_default())
            .destination_cidr_block(str_of(state, "destination_cidr_block").unwrap_or_default())
            .send()
            .await
            .map_err(|e| sdk("DeleteRoute", e))
        {
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }
}

// ---------------------------------------------------------------- aws_security_group_rule

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

/// A stable id from the rule's content, as Terraform's `sgrule-<hash>`.
fn rule_id(v: &Value) -> String {
    let mut b = as_block(v);
    super::put(&mut b, "description", Value::Null);
    let key = format!(
        "{}|{}|{}",
        str_of(v, "security_group_id").unwrap_or_default(),
        str_of(v, "type").unwrap_or_default(),
        b.to_json()
    );
    format!("sgrule-{}", super::util::fnv64(&key))
}

#[async_trait]
impl AwsResource for SecurityGroupRule {
    fn name(&self) -> &'static str {
        "aws_security_group_rule"
    }

    fn taggable(&self) -> bool {
        false
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("type", Attribute::required(Type::String).force_new())
            .attr(
                "security_group_id",
                Attribute::required(Type::String).force_new(),
            )
            .attr("from_port", Attribute::required(Type::Number).force_new())
            .attr("to_port", Attribute::required(Type::Number).force_new())
            .attr("protocol", Attribute::required(Type::String).force_new())
            .attr(
                "cidr_blocks",
                Attribute::optional(Type::list(Type::String)).force_new(),
            )
            .attr(
                "source_security_group_id",
                Attribute::optional(Type::String).force_new(),
            )
            .attr(
                "self",
                Attribute::optional(Type::Bool)
                    .with_default(false)
                    .force_new(),
            )
            .attr("description", Attribute::optional(Type::String))
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

    fn adjust_plan(
        &self,
        _p: Option<&Value>,
        _c: &Value,
        planned: &mut Value,
        _rr: &mut Vec<AttrPath>,
    ) {
        if planned.contains_unknown() {
            return;
        }
        let id = rule_id(planned);
        super::put(planned, "id", Value::from(id));
    }

    async fn create(&self, cx: &Clients, planned: &Value, _token: &str) -> Result<Value, AwsError> {
        let group = str_of(planned, "security_group_id").unwrap_or_default();
        let perm = to_permission(&as_block(planned), group);
        let res = if str_of(planned, "type") == Some("egress") {
            cx.ec2
                .authorize_security_group_egress()
                .group_id(group)
                .ip_permissions(perm)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("AuthorizeSecurityGroupEgress", e))
        } else {
            cx.ec2
                .authorize_security_group_ingress()
                .group_id(group)
                .ip_permissions(perm)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("AuthorizeSecurityGroupIngress", e))
        };
        match res {
            Ok(()) => {}
            // A retry after a lost response: the rule is there, and a rule is its content.
            Err(e)
                if e.is("InvalidPermission.Duplicate")
                    && self.read(cx, "", planned).await?.is_some() => {}
            Err(e) => return Err(e),
        }
        let mut v = planned.clone();
        super::put(&mut v, "id", Value::from(rule_id(planned)));
        Ok(v)
    }

    async fn read(
        &self,
        cx: &Clients,
        _id: &str,
        prior: &Value,
    ) -> Result<Option<Value>, AwsError> {
        // Rules have no id of their own in the API: find the permission with this content.
        let group = str_of(prior, "security_group_id").unwrap_or_default();
        let Some(g) = describe_sg(cx, group).await? else {
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
            super::put(&mut v, "id", Value::from(rule_id(prior)));
            if let Some(d) = have.get("description") {
                super::put(&mut v, "description", d.clone());
            }
            v
        }))
    }

    async fn update(
        &self,
        cx: &Clients,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        // Only the description changes in place.
        let group = str_of(planned, "security_group_id").unwrap_or_default();
        let perm = to_permission(&as_block(planned), group);
        if str_of(planned, "type") == Some("egress") {
            cx.ec2
                .update_security_group_rule_descriptions_egress()
                .group_id(group)
                .ip_permissions(perm)
                .send()
                .await
                .map_err(|e| sdk("UpdateSecurityGroupRuleDescriptionsEgress", e))?;
        } else {
            cx.ec2
                .update_security_group_rule_descriptions_ingress()
                .group_id(group)
                .ip_permissions(perm)
                .send()
                .await
                .map_err(|e| sdk("UpdateSecurityGroupRuleDescriptionsIngress", e))?;
        }
        Ok(planned.clone())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let group = str_of(state, "security_group_id").unwrap_or_default();
        let perm = to_permission(&as_block(state), group);
        let res = if str_of(state, "type") == Some("egress") {
            cx.ec2
                .revoke_security_group_egress()
                .group_id(group)
                .ip_permissions(perm)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("RevokeSecurityGroupEgress", e))
        } else {
            cx.ec2
                .revoke_security_group_ingress()
                .group_id(group)
                .ip_permissions(perm)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("RevokeSecurityGroupIngress", e))
        };
        match res {
            Err(e) if !e.is_not_found() && !e.code.contains("InvalidPermission.NotFound") => Err(e),
            _ => Ok(()),
        }
    }
}
