//! aws_lb, aws_lb_target_group, aws_lb_listener, aws_lb_listener_rule,
//! aws_lb_target_group_attachment (Elastic Load Balancing v2).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types as t;
use terrane_core::{Attribute, Nesting, ResourceSchema, Type, Value};

use super::util::{
    add_timeouts, block, blocks, changed, create_then_find, int_of, missing, no_retry_config, num,
    opt_n, opt_s, str_set, strs_of, timeout, vanished,
};
use super::{bool_of, str_of, AwsResource};
use crate::config::Clients;
use crate::error::{absent_ok, delete_and_wait, retry_dependency, sdk, wait_until, AwsError};
use crate::tags;

pub struct Lb;
pub struct TargetGroup;
pub struct Listener;
pub struct ListenerRule;
pub struct TargetGroupAttachment;

fn elb_tags(m: &BTreeMap<String, String>) -> Vec<t::Tag> {
    m.iter()
        .map(|(k, v)| t::Tag::builder().key(k).value(v).build())
        .collect()
}

async fn read_tags(cx: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = cx
        .elbv2
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .map_err(|e| sdk("DescribeTags", e))?;
    Ok(out
        .tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect())
}

async fn sync_tags(
    cx: &Clients,
    arn: &str,
    prior: &Value,
    planned: &Value,
) -> Result<(), AwsError> {
    tags::apply_diff(
        prior,
        planned,
        |keys| async move {
            cx.elbv2
                .remove_tags()
                .resource_arns(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("RemoveTags", e))
        },
        |t| async move {
            cx.elbv2
                .add_tags()
                .resource_arns(arn)
                .set_tags(Some(elb_tags(&t)))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("AddTags", e))
        },
    )
    .await
}

/// The first of `arns` that carries `token` (a create whose answer was lost).
async fn by_token(
    cx: &Clients,
    arns: Vec<String>,
    token: &str,
) -> Result<Option<String>, AwsError> {
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
    Some(elb_tags(&tags::with_token(
        &tags::wanted(planned),
        Some(token),
    )))
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

// ---------------------------------------------------------------- aws_lb

const LB_TIMEOUT: Duration = Duration::from_secs(600);

async fn describe_lb(cx: &Clients, arn: &str) -> Result<Option<t::LoadBalancer>, AwsError> {
    let req = cx.elbv2.describe_load_balancers();
    let req = if arn.starts_with("arn:") {
        req.load_balancer_arns(arn)
    } else {
        req.names(arn)
    };
    Ok(absent_ok(
        req.send()
            .await
            .map_err(|e| sdk("DescribeLoadBalancers", e)),
    )?
    .and_then(|o| o.load_balancers.unwrap_or_default().into_iter().next()))
}

async fn lb_state(cx: &Clients, lb: &t::LoadBalancer, prior: &Value) -> Result<Value, AwsError> {
    let arn = lb.load_balancer_arn().unwrap_or_default();
    let attrs: BTreeMap<String, String> = cx
        .elbv2
        .describe_load_balancer_attributes()
        .load_balancer_arn(arn)
        .send()
        .await
        .map_err(|e| sdk("DescribeLoadBalancerAttributes", e))?
        .attributes()
        .iter()
        .filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string())))
        .collect();
    let (tags, tags_all) = tags::split(read_tags(cx, arn).await?, prior);
    Ok(Value::map([
        ("id", Value::from(arn)),
        ("arn", Value::from(arn)),
        ("arn_suffix", Value::from(arn_suffix(arn, "loadbalancer/"))),
        ("name", opt_s(lb.load_balancer_name())),
        ("dns_name", opt_s(lb.dns_name())),
        ("zone_id", opt_s(lb.canonical_hosted_zone_id())),
        ("vpc_id", opt_s(lb.vpc_id())),
        (
            "internal",
            Value::Bool(lb.scheme().map(|s| s.as_str()) == Some("internal")),
        ),
        ("load_balancer_type", opt_s(lb.r#type().map(|s| s.as_str()))),
        (
            "ip_address_type",
            opt_s(lb.ip_address_type().map(|s| s.as_str())),
        ),
        ("security_groups", str_set(lb.security_groups())),
        (
            "subnets",
            str_set(lb.availability_zones().iter().filter_map(|z| z.subnet_id())),
        ),
        (
            "idle_timeout",
            num(attrs
                .get("idle_timeout.timeout_seconds")
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(60.0)),
        ),
        (
            "enable_deletion_protection",
            Value::Bool(
                attrs.get("deletion_protection.enabled").map(String::as_str) == Some("true"),
            ),
        ),
        ("tags", tags),
        ("tags_all", tags_all),
    ]))
}

async fn set_lb_attributes(cx: &Clients, arn: &str, planned: &Value) -> Result<(), AwsError> {
    let attr = |k: &str, v: String| t::LoadBalancerAttribute::builder().key(k).value(v).build();
    let mut attrs = vec![attr(
        "deletion_protection.enabled",
        bool_of(planned, "enable_deletion_protection")
            .unwrap_or(false)
            .to_string(),
    )];
    if str_of(planned, "load_balancer_type") == Some("application") {
        attrs.push(attr(
            "idle_timeout.timeout_seconds",
            int_of(planned, "idle_timeout").unwrap_or(60).to_string(),
        ));
    }
    cx.elbv2
        .modify_load_balancer_attributes()
        .load_balancer_arn(arn)
        .set_attributes(Some(attrs))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk("ModifyLoadBalancerAttributes", e))
}

#[async_trait]
impl AwsResource for Lb {
    fn name(&self) -> &'static str {
        "aws_lb"
    }

    fn schema(&self) -> ResourceSchema {
        add_timeouts(
            ResourceSchema::new()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("arn_suffix", Attribute::computed(Type::String))
                .attr("dns_name", Attribute::computed(Type::String))
                .attr("zone_id", Attribute::computed(Type::String))
                .attr("vpc_id", Attribute::computed(Type::String))
                .attr("name", Attribute::required(Type::String).force_new())
                .attr(
                    "internal",
                    Attribute::optional(Type::Bool)
                        .with_default(false)
                        .force_new(),
                )
                .attr(
                    "load_balancer_type",
                    Attribute::optional(Type::String)
                        .with_default("application")
                        .force_new(),
                )
                .attr(
                    "ip_address_type",
                    Attribute::optional(Type::String).with_default("ipv4"),
                )
                .attr(
                    "security_groups",
                    Attribute::optional_computed(Type::set(Type::String)),
                )
                .attr("subnets", Attribute::required(Type::set(Type::String)))
                .attr(
                    "idle_timeout",
                    Attribute::optional(Type::Number).with_default(60i64),
                )
                .attr(
                    "enable_deletion_protection",
                    Attribute::optional(Type::Bool).with_default(false),
                ),
        )
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        // AWS answers a repeated CreateLoadBalancer with the same load balancer, but not every
        // implementation does (moto makes a second one): after a lost answer, look first.
        let name = str_of(planned, "name").unwrap_or_default().to_string();
        let req = cx
            .elbv2
            .create_load_balancer()
            .name(&name)
            .set_subnets(Some(strs_of(planned, "subnets")))
            .set_security_groups(
                Some(strs_of(planned, "security_groups")).filter(|s| !s.is_empty()),
            )
            .scheme(if bool_of(planned, "internal") == Some(true) {
                t::LoadBalancerSchemeEnum::Internal
            } else {
                t::LoadBalancerSchemeEnum::InternetFacing
            })
            .r#type(t::LoadBalancerTypeEnum::from(
                str_of(planned, "load_balancer_type").unwrap_or("application"),
            ))
            .ip_address_type(t::IpAddressType::from(
                str_of(planned, "ip_address_type").unwrap_or("ipv4"),
            ))
            .set_tags(create_tags(planned, token));
        let arn = create_then_find(
            "CreateLoadBalancer",
            || req.clone().customize().config_override(no_retry()).send(),
            |out| {
                out.load_balancers
                    .and_then(|l| l.into_iter().next())
                    .and_then(|l| l.load_balancer_arn)
            },
            || async {
                let found = describe_lb(cx, &name)
                    .await?
                    .and_then(|l| l.load_balancer_arn);
                by_token(cx, found.into_iter().collect(), token).await
            },
        )
        .await?;
        let lb = wait_until(
            "the load balancer to become active",
            "DescribeLoadBalancers",
            timeout(planned, "create", LB_TIMEOUT),
            || async {
                let lb = describe_lb(cx, &arn).await?;
                match lb
                    .as_ref()
                    .and_then(|l| l.state())
                    .and_then(|s| s.code())
                    .map(|c| c.as_str())
                {
                    Some("failed") => Err(AwsError::new(
                        "DescribeLoadBalancers",
                        "LoadBalancerFailed",
                        format!("load balancer {arn} failed to provision"),
                    )),
                    Some("active") => Ok(lb),
                    _ => Ok(None),
                }
            },
        )
        .await?;
        set_lb_attributes(cx, &arn, planned).await?;
        lb_state(cx, &lb, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        match describe_lb(cx, id).await? {
            Some(lb) => Ok(Some(lb_state(cx, &lb, prior).await?)),
            None => Ok(None),
        }
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let arn = str_of(prior, "arn").unwrap_or_default().to_string();
        if changed(prior, planned, &["security_groups"]) {
            cx.elbv2
                .set_security_groups()
                .load_balancer_arn(&arn)
                .set_security_groups(Some(strs_of(planned, "security_groups")))
                .send()
                .await
                .map_err(|e| sdk("SetSecurityGroups", e))?;
        }
        if changed(prior, planned, &["subnets"]) {
            cx.elbv2
                .set_subnets()
                .load_balancer_arn(&arn)
                .set_subnets(Some(strs_of(planned, "subnets")))
                .send()
                .await
                .map_err(|e| sdk("SetSubnets", e))?;
        }
        if changed(prior, planned, &["ip_address_type"]) {
            cx.elbv2
                .set_ip_address_type()
                .load_balancer_arn(&arn)
                .ip_address_type(t::IpAddressType::from(
                    str_of(planned, "ip_address_type").unwrap_or("ipv4"),
                ))
                .send()
                .await
                .map_err(|e| sdk("SetIpAddressType", e))?;
        }
        if changed(
            prior,
            planned,
            &["idle_timeout", "enable_deletion_protection"],
        ) {
            set_lb_attributes(cx, &arn, planned).await?;
        }
        sync_tags(cx, &arn, prior, planned).await?;
        let lb = describe_lb(cx, &arn)
            .await?
            .ok_or_else(|| vanished("DescribeLoadBalancers", "load balancer", &arn))?;
        lb_state(cx, &lb, planned).await
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let arn = str_of(state, "arn").unwrap_or_default().to_string();
        delete_and_wait(
            "the load balancer",
            "DescribeLoadBalancers",
            timeout(state, "delete", LB_TIMEOUT),
            || async {
                cx.elbv2
                    .delete_load_balancer()
                    .load_balancer_arn(&arn)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk("DeleteLoadBalancer", e))
            },
            || async { Ok(describe_lb(cx, &arn).await?.is_some()) },
        )
        .await
    }
}

// ---------------------------------------------------------------- aws_lb_target_group

async fn describe_tg(cx: &Clients, arn: &str) -> Result<Option<t::TargetGroup>, AwsError> {
    let req = cx.elbv2.describe_target_groups();
    let req = if arn.starts_with("arn:") {
        req.target_group_arns(arn)
    } else {
        req.names(arn)
    };
    Ok(
        absent_ok(req.send().await.map_err(|e| sdk("DescribeTargetGroups", e)))?
            .and_then(|o| o.target_groups.unwrap_or_default().into_iter().next()),
    )
}

fn health_check_schema() -> ResourceSchema {
    ResourceSchema::new()
        .attr(
            "enabled",
            Attribute::optional(Type::Bool).with_default(true),
        )
        .attr("path", Attribute::optional(Type::String))
        .attr(
            "port",
            Attribute::optional(Type::String).with_default("traffic-port"),
        )
        .attr(
            "protocol",
            Attribute::optional(Type::String).with_default("HTTP"),
        )
        .attr("matcher", Attribute::optional(Type::String))
        .attr(
            "interval",
            Attribute::optional(Type::Number).with_default(30i64),
        )
        .attr("timeout", Attribute::optional(Type::Number))
        .attr(
            "healthy_threshold",
            Attribute::optional(Type::Number).with_default(3i64),
        )
        .attr(
            "unhealthy_threshold",
            Attribute::optional(Type::Number).with_default(3i64),
        )
}

async fn tg_state(cx: &Clients, tg: &t::TargetGroup, prior: &Value) -> Result<Value, AwsError> {
    let arn = tg.target_group_arn().unwrap_or_default();
    let attrs: BTreeMap<String, String> = cx
        .elbv2
        .describe_target_group_attributes()
        .target_group_arn(arn)
        .send()
        .await
        .map_err(|e| sdk("DescribeTargetGroupAttributes", e))?
        .attributes()
        .iter()
        .filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string())))
        .collect();
    let (tags, tags_all) = tags::split(read_tags(cx, arn).await?, prior);
    // Optional health-check settings the user left unset are AWS's defaults, not drift.
    let ph = block(prior, "health_check");
    let unset = |k: &str| ph.is_some_and(|p| p.get(k).is_some_and(Value::is_null));
    let keep = |k: &str, v: Value| if unset(k) { Value::Null } else { v };
    let hc = Value::map([
        (
            "enabled",
            Value::Bool(tg.health_check_enabled().unwrap_or(true)),
        ),
        ("path", keep("path", opt_s(tg.health_check_path()))),
        ("port", opt_s(tg.health_check_port())),
        (
            "protocol",
            opt_s(tg.health_check_protocol().map(|p| p.as_str())),
        ),
        (
            "matcher",
            keep("matcher", opt_s(tg.matcher().and_then(|m| m.http_code()))),
        ),
        ("interval", opt_n(tg.health_check_interval_seconds())),
        (
            "timeout",
            keep("timeout", opt_n(tg.health_check_timeout_seconds())),
        ),
        ("healthy_threshold", opt_n(tg.healthy_threshold_count())),
        ("unhealthy_threshold", opt_n(tg.unhealthy_threshold_count())),
    ]);
    let hc = if ph.is_none() && !prior.is_null() {
        Value::List(Vec::new())
    } else {
        Value::List(vec![hc])
    };
    Ok(Value::map([
        ("id", Value::from(arn)),
        ("arn", Value::from(arn)),
        ("arn_suffix", Value::from(arn_suffix(arn, "targetgroup/"))),
        ("name", opt_s(tg.target_group_name())),
        ("port", opt_n(tg.port())),
        ("protocol", opt_s(tg.protocol().map(|p| p.as_str()))),
        ("vpc_id", opt_s(tg.vpc_id())),
        ("target_type", opt_s(tg.target_type().map(|p| p.as_str()))),
        (
            "deregistration_delay",
            num(attrs
                .get("deregistration_delay.timeout_seconds")
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(300.0)),
        ),
        ("load_balancer_arns", str_set(tg.load_balancer_arns())),
        ("health_check", hc),
        ("tags", tags),
        ("tags_all", tags_all),
    ]))
}

#[async_trait]
impl AwsResource for TargetGroup {
    fn name(&self) -> &'static str {
        "aws_lb_target_group"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("arn_suffix", Attribute::computed(Type::String))
            .attr(
                "load_balancer_arns",
                Attribute::computed(Type::set(Type::String)),
            )
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("port", Attribute::optional(Type::Number).force_new())
            .attr("protocol", Attribute::optional(Type::String).force_new())
            .attr("vpc_id", Attribute::optional(Type::String).force_new())
            .attr(
                "target_type",
                Attribute::optional(Type::String)
                    .with_default("instance")
                    .force_new(),
            )
            .attr(
                "deregistration_delay",
                Attribute::optional(Type::Number).with_default(300i64),
            )
            .block("health_check", Nesting::List, health_check_schema())
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        let hc = block(planned, "health_check");
        let hs = |k: &str| hc.and_then(|h| str_of(h, k)).map(String::from);
        let hn = |k: &str| hc.and_then(|h| int_of(h, k));
        let mut req = cx
            .elbv2
            .create_target_group()
            .name(str_of(planned, "name").unwrap_or_default())
            .set_port(int_of(planned, "port"))
            .set_vpc_id(str_of(planned, "vpc_id").map(String::from))
            .target_type(t::TargetTypeEnum::from(
                str_of(planned, "target_type").unwrap_or("instance"),
            ))
            .set_health_check_enabled(hc.and_then(|h| bool_of(h, "enabled")))
            .set_health_check_path(hs("path"))
            .set_health_check_port(hs("port"))
            .set_health_check_interval_seconds(hn("interval"))
            .set_health_check_timeout_seconds(hn("timeout"))
            .set_healthy_threshold_count(hn("healthy_threshold"))
            .set_unhealthy_threshold_count(hn("unhealthy_threshold"))
            .set_tags(create_tags(planned, token));
        if let Some(p) = str_of(planned, "protocol") {
            req = req.protocol(t::ProtocolEnum::from(p));
        }
        if let Some(p) = hs("protocol") {
            req = req.health_check_protocol(t::ProtocolEnum::from(p.as_str()));
        }
        if let Some(m) = hs("matcher") {
            req = req.matcher(t::Matcher::builder().http_code(m).build());
        }
        let arn = match req.send().await.map_err(|e| sdk("CreateTargetGroup", e)) {
            Ok(out) => out
                .target_groups()
                .first()
                .and_then(|g| g.target_group_arn())
                .ok_or_else(|| missing("CreateTargetGroup", "target group ARN"))?
                .to_string(),
            Err(e) if e.is("DuplicateTargetGroupName") => {
                let name = str_of(planned, "name").unwrap_or_default();
                match describe_tg(cx, name)
                    .await?
                    .and_then(|g| g.target_group_arn)
                {
                    Some(arn) if tags::has_token(&read_tags(cx, &arn).await?, token) => arn,
                    _ => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        set_tg_attributes(cx, &arn, planned).await?;
        let tg = describe_tg(cx, &arn)
            .await?
            .ok_or_else(|| vanished("DescribeTargetGroups", "target group", &arn))?;
        tg_state(cx, &tg, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        match describe_tg(cx, id).await? {
            Some(tg) => Ok(Some(tg_state(cx, &tg, prior).await?)),
            None => Ok(None),
        }
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let arn = str_of(prior, "arn").unwrap_or_default().to_string();
        if changed(prior, planned, &["health_check"]) {
            if let Some(h) = block(planned, "health_check") {
                let mut req = cx
                    .elbv2
                    .modify_target_group()
                    .target_group_arn(&arn)
                    .set_health_check_enabled(bool_of(h, "enabled"))
                    .set_health_check_path(str_of(h, "path").map(String::from))
                    .set_health_check_port(str_of(h, "port").map(String::from))
                    .set_health_check_interval_seconds(int_of(h, "interval"))
                    .set_health_check_timeout_seconds(int_of(h, "timeout"))
                    .set_healthy_threshold_count(int_of(h, "healthy_threshold"))
                    .set_unhealthy_threshold_count(int_of(h, "unhealthy_threshold"));
                if let Some(p) = str_of(h, "protocol") {
                    req = req.health_check_protocol(t::ProtocolEnum::from(p));
                }
                if let Some(m) = str_of(h, "matcher") {
                    req = req.matcher(t::Matcher::builder().http_code(m).build());
                }
                req.send().await.map_err(|e| sdk("ModifyTargetGroup", e))?;
            }
        }
        if changed(prior, planned, &["deregistration_delay"]) {
            set_tg_attributes(cx, &arn, planned).await?;
        }
        sync_tags(cx, &arn, prior, planned).await?;
        let tg = describe_tg(cx, &arn)
            .await?
            .ok_or_else(|| vanished("DescribeTargetGroups", "target group", &arn))?;
        tg_state(cx, &tg, planned).await
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let arn = str_of(state, "arn").unwrap_or_default().to_string();
        // ResourceInUse while a listener or rule still forwards to it.
        retry_dependency(Duration::from_secs(300), || async {
            cx.elbv2
                .delete_target_group()
                .target_group_arn(&arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("DeleteTargetGroup", e))
        })
        .await
    }
}

async fn set_tg_attributes(cx: &Clients, arn: &str, planned: &Value) -> Result<(), AwsError> {
    cx.elbv2
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(
            t::TargetGroupAttribute::builder()
                .key("deregistration_delay.timeout_seconds")
                .value(
                    int_of(planned, "deregistration_delay")
                        .unwrap_or(300)
                        .to_string(),
                )
                .build(),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk("ModifyTargetGroupAttributes", e))
}

// ---------------------------------------------------------------- actions (listener, rule)

fn action_schema() -> ResourceSchema {
    ResourceSchema::new()
        .attr("type", Attribute::required(Type::String))
        .attr("target_group_arn", Attribute::optional(Type::String))
        .attr("order", Attribute::optional(Type::Number))
        .block(
            "fixed_response",
            Nesting::List,
            ResourceSchema::new()
                .attr("content_type", Attribute::required(Type::String))
                .attr("message_body", Attribute::optional(Type::String))
                .attr("status_code", Attribute::optional(Type::String)),
        )
}

fn actions(planned: &Value, key: &str) -> Vec<t::Action> {
    blocks(planned, key)
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let mut b = t::Action::builder()
                .r#type(t::ActionTypeEnum::from(
                    str_of(a, "type").unwrap_or("forward"),
                ))
                .set_target_group_arn(str_of(a, "target_group_arn").map(String::from))
                .order(int_of(a, "order").unwrap_or(i as i32 + 1));
            if let Some(f) = block(a, "fixed_response") {
                b = b.fixed_response_config(
                    t::FixedResponseActionConfig::builder()
                        .content_type(str_of(f, "content_type").unwrap_or("text/plain"))
                        .set_message_body(str_of(f, "message_body").map(String::from))
                        .status_code(str_of(f, "status_code").unwrap_or("200"))
                        .build(),
                );
            }
            b.build()
        })
        .collect()
}

fn actions_state(read: &[t::Action], prior: &Value, key: &str) -> Value {
    let prior_items = blocks(prior, key);
    Value::List(
        read.iter()
            .enumerate()
            .map(|(i, a)| {
                let pa = prior_items.get(i);
                let order = match pa.and_then(|p| p.get("order")) {
                    Some(Value::Null) => Value::Null,
                    _ => opt_n(a.order()),
                };
                let fixed = a
                    .fixed_response_config()
                    .map(|f| {
                        vec![Value::map([
                            ("content_type", opt_s(f.content_type())),
                            ("message_body", opt_s(f.message_body())),
                            ("status_code", opt_s(f.status_code())),
                        ])]
                    })
                    .unwrap_or_default();
                let tg = a.target_group_arn().or_else(|| {
                    a.forward_config()
                        .and_then(|f| f.target_groups().first())
                        .and_then(|g| g.target_group_arn())
                });
                Value::map([
                    ("type", opt_s(a.r#type().map(|t| t.as_str()))),
                    ("target_group_arn", opt_s(tg)),
                    ("order", order),
                    ("fixed_response", Value::List(fixed)),
                ])
            })
            .collect(),
    )
}

// ---------------------------------------------------------------- aws_lb_listener

async fn describe_listener(cx: &Clients, arn: &str) -> Result<Option<t::Listener>, AwsError> {
    Ok(absent_ok(
        cx.elbv2
            .describe_listeners()
            .listener_arns(arn)
            .send()
            .await
            .map_err(|e| sdk("DescribeListeners", e)),
    )?
    .and_then(|o| o.listeners.unwrap_or_default().into_iter().next()))
}

async fn listener_state(cx: &Clients, l: &t::Listener, prior: &Value) -> Result<Value, AwsError> {
    let arn = l.listener_arn().unwrap_or_default();
    let (tags, tags_all) = tags::split(read_tags(cx, arn).await?, prior);
    Ok(Value::map([
        ("id", Value::from(arn)),
        ("arn", Value::from(arn)),
        ("load_balancer_arn", opt_s(l.load_balancer_arn())),
        ("port", opt_n(l.port())),
        ("protocol", opt_s(l.protocol().map(|p| p.as_str()))),
        ("ssl_policy", opt_s(l.ssl_policy())),
        (
            "certificate_arn",
            opt_s(l.certificates().first().and_then(|c| c.certificate_arn())),
        ),
        (
            "default_action",
            actions_state(l.default_actions(), prior, "default_action"),
        ),
        ("tags", tags),
        ("tags_all", tags_all),
    ]))
}

#[async_trait]
impl AwsResource for Listener {
    fn name(&self) -> &'static str {
        "aws_lb_listener"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr(
                "load_balancer_arn",
                Attribute::required(Type::String).force_new(),
            )
            .attr("port", Attribute::optional(Type::Number))
            .attr("protocol", Attribute::optional_computed(Type::String))
            .attr("ssl_policy", Attribute::optional_computed(Type::String))
            .attr("certificate_arn", Attribute::optional(Type::String))
            .block("default_action", Nesting::List, action_schema())
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        let mut req = cx
            .elbv2
            .create_listener()
            .load_balancer_arn(str_of(planned, "load_balancer_arn").unwrap_or_default())
            .set_port(int_of(planned, "port"))
            .set_ssl_policy(str_of(planned, "ssl_policy").map(String::from))
            .set_default_actions(Some(actions(planned, "default_action")))
            .set_tags(create_tags(planned, token));
        if let Some(p) = str_of(planned, "protocol") {
            req = req.protocol(t::ProtocolEnum::from(p));
        }
        if let Some(c) = str_of(planned, "certificate_arn") {
            req = req.certificates(t::Certificate::builder().certificate_arn(c).build());
        }
        let lb = str_of(planned, "load_balancer_arn")
            .unwrap_or_default()
            .to_string();
        let arn = create_then_find(
            "CreateListener",
            || req.clone().customize().config_override(no_retry()).send(),
            |out| {
                out.listeners
                    .and_then(|l| l.into_iter().next())
                    .and_then(|l| l.listener_arn)
            },
            || async {
                let out = cx
                    .elbv2
                    .describe_listeners()
                    .load_balancer_arn(&lb)
                    .send()
                    .await
                    .map_err(|e| sdk("DescribeListeners", e))?;
                let arns: Vec<String> = out
                    .listeners()
                    .iter()
                    .filter_map(|l| l.listener_arn().map(String::from))
                    .collect();
                by_token(cx, arns, token).await
            },
        )
        .await?;
        let l = describe_listener(cx, &arn)
            .await?
            .ok_or_else(|| vanished("DescribeListeners", "listener", &arn))?;
        listener_state(cx, &l, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        match describe_listener(cx, id).await? {
            Some(l) => Ok(Some(listener_state(cx, &l, prior).await?)),
            None => Ok(None),
        }
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let arn = str_of(prior, "arn").unwrap_or_default().to_string();
        if changed(
            prior,
            planned,
            &[
                "port",
                "protocol",
                "ssl_policy",
                "certificate_arn",
                "default_action",
            ],
        ) {
            // The blue/green swap: one ModifyListener moves all traffic at once.
            let mut req = cx
                .elbv2
                .modify_listener()
                .listener_arn(&arn)
                .set_port(int_of(planned, "port"))
                .set_ssl_policy(str_of(planned, "ssl_policy").map(String::from))
                .set_default_actions(Some(actions(planned, "default_action")));
            if let Some(p) = str_of(planned, "protocol") {
                req = req.protocol(t::ProtocolEnum::from(p));
            }
            if let Some(c) = str_of(planned, "certificate_arn") {
                req = req.certificates(t::Certificate::builder().certificate_arn(c).build());
            }
            req.send().await.map_err(|e| sdk("ModifyListener", e))?;
        }
        sync_tags(cx, &arn, prior, planned).await?;
        let l = describe_listener(cx, &arn)
            .await?
            .ok_or_else(|| vanished("DescribeListeners", "listener", &arn))?;
        listener_state(cx, &l, planned).await
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        match cx
            .elbv2
            .delete_listener()
            .listener_arn(str_of(state, "arn").unwrap_or_default())
            .send()
            .await
            .map_err(|e| sdk("DeleteListener", e))
        {
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }
}

// ---------------------------------------------------------------- aws_lb_listener_rule

fn condition_schema() -> ResourceSchema {
    let values =
        || ResourceSchema::new().attr("values", Attribute::required(Type::set(Type::String)));
    ResourceSchema::new()
        .block("path_pattern", Nesting::List, values())
        .block("host_header", Nesting::List, values())
}

fn conditions(planned: &Value) -> Vec<t::RuleCondition> {
    let mut out = Vec::new();
    for c in blocks(planned, "condition") {
        if let Some(p) = block(c, "path_pattern") {
            out.push(
                t::RuleCondition::builder()
                    .field("path-pattern")
                    .path_pattern_config(
                        t::PathPatternConditionConfig::builder()
                            .set_values(Some(strs_of(p, "values")))
                            .build(),
                    )
                    .build(),
            );
        }
        if let Some(h) = block(c, "host_header") {
            out.push(
                t::RuleCondition::builder()
                    .field("host-header")
                    .host_header_config(
                        t::HostHeaderConditionConfig::builder()
                            .set_values(Some(strs_of(h, "values")))
                            .build(),
                    )
                    .build(),
            );
        }
    }
    out
}

fn conditions_state(read: &[t::RuleCondition]) -> Value {
    let mut items: Vec<Value> = read
        .iter()
        .map(|c| {
            let vals = |v: &[String]| vec![Value::map([("values", str_set(v))])];
            let field = c.field().unwrap_or_default();
            let (pp, hh) = match field {
                "path-pattern" => (
                    vals(
                        c.path_pattern_config()
                            .map(|p| p.values())
                            .filter(|v| !v.is_empty())
                            .unwrap_or(c.values()),
                    ),
                    Vec::new(),
                ),
                "host-header" => (
                    Vec::new(),
                    vals(
                        c.host_header_config()
                            .map(|p| p.values())
                            .filter(|v| !v.is_empty())
                            .unwrap_or(c.values()),
                    ),
                ),
                _ => (Vec::new(), Vec::new()),
            };
            Value::map([
                ("path_pattern", Value::List(pp)),
                ("host_header", Value::List(hh)),
            ])
        })
        .collect();
    terrane_core::schema::dedup_set(&mut items);
    Value::List(items)
}

async fn describe_rule(cx: &Clients, arn: &str) -> Result<Option<t::Rule>, AwsError> {
    Ok(absent_ok(
        cx.elbv2
            .describe_rules()
            .rule_arns(arn)
            .send()
            .await
            .map_err(|e| sdk("DescribeRules", e)),
    )?
    .and_then(|o| o.rules.unwrap_or_default().into_iter().next()))
}

async fn rule_state(
    cx: &Clients,
    r: &t::Rule,
    listener_arn: &str,
    prior: &Value,
) -> Result<Value, AwsError> {
    let arn = r.rule_arn().unwrap_or_default();
    let (tags, tags_all) = tags::split(read_tags(cx, arn).await?, prior);
    Ok(Value::map([
        ("id", Value::from(arn)),
        ("arn", Value::from(arn)),
        ("listener_arn", Value::from(listener_arn)),
        (
            "priority",
            r.priority()
                .and_then(|p| p.parse::<f64>().ok())
                .map(Value::Number)
                .unwrap_or(Value::Null),
        ),
        ("action", actions_state(r.actions(), prior, "action")),
        ("condition", conditions_state(r.conditions())),
        ("tags", tags),
        ("tags_all", tags_all),
    ]))
}

/// The listener a rule belongs to: `.../listener-rule/app/lb/x/listener-id/rule-id` names it.
fn listener_of_rule(rule_arn: &str) -> String {
    let Some((head, tail)) = rule_arn.split_once(":listener-rule/") else {
        return String::new();
    };
    let parts: Vec<&str> = tail.split('/').collect();
    if parts.len() < 2 {
        return String::new();
    }
    format!("{head}:listener/{}", parts[..parts.len() - 1].join("/"))
}

#[async_trait]
impl AwsResource for ListenerRule {
    fn name(&self) -> &'static str {
        "aws_lb_listener_rule"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr(
                "listener_arn",
                Attribute::required(Type::String).force_new(),
            )
            .attr("priority", Attribute::optional_computed(Type::Number))
            .block("action", Nesting::List, action_schema())
            .block("condition", Nesting::Set, condition_schema())
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        let listener = str_of(planned, "listener_arn")
            .unwrap_or_default()
            .to_string();
        let priority = match int_of(planned, "priority") {
            Some(p) => p,
            None => {
                // Like Terraform: the next free priority on the listener.
                let out = cx
                    .elbv2
                    .describe_rules()
                    .listener_arn(&listener)
                    .send()
                    .await
                    .map_err(|e| sdk("DescribeRules", e))?;
                out.rules()
                    .iter()
                    .filter_map(|r| r.priority()?.parse::<i32>().ok())
                    .max()
                    .unwrap_or(0)
                    + 1
            }
        };
        let req = cx
            .elbv2
            .create_rule()
            .listener_arn(&listener)
            .priority(priority)
            .set_conditions(Some(conditions(planned)))
            .set_actions(Some(actions(planned, "action")))
            .set_tags(create_tags(planned, token));
        let arn = create_then_find(
            "CreateRule",
            || req.clone().customize().config_override(no_retry()).send(),
            |out| {
                out.rules
                    .and_then(|r| r.into_iter().next())
                    .and_then(|r| r.rule_arn)
            },
            || async {
                let out = cx
                    .elbv2
                    .describe_rules()
                    .listener_arn(&listener)
                    .send()
                    .await
                    .map_err(|e| sdk("DescribeRules", e))?;
                let arns: Vec<String> = out
                    .rules()
                    .iter()
                    .filter_map(|r| r.rule_arn().map(String::from))
                    .collect();
                by_token(cx, arns, token).await
            },
        )
        .await?;
        let r = describe_rule(cx, &arn)
            .await?
            .ok_or_else(|| vanished("DescribeRules", "rule", &arn))?;
        rule_state(cx, &r, &listener, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        let listener = str_of(prior, "listener_arn")
            .map(String::from)
            .unwrap_or_else(|| listener_of_rule(id));
        match describe_rule(cx, id).await? {
            Some(r) => Ok(Some(rule_state(cx, &r, &listener, prior).await?)),
            None => Ok(None),
        }
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let arn = str_of(prior, "arn").unwrap_or_default().to_string();
        if changed(prior, planned, &["priority"]) {
            if let Some(p) = int_of(planned, "priority") {
                cx.elbv2
                    .set_rule_priorities()
                    .rule_priorities(
                        t::RulePriorityPair::builder()
                            .rule_arn(&arn)
                            .priority(p)
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| sdk("SetRulePriorities", e))?;
            }
        }
        if changed(prior, planned, &["action", "condition"]) {
            cx.elbv2
                .modify_rule()
                .rule_arn(&arn)
                .set_conditions(Some(conditions(planned)))
                .set_actions(Some(actions(planned, "action")))
                .send()
                .await
                .map_err(|e| sdk("ModifyRule", e))?;
        }
        sync_tags(cx, &arn, prior, planned).await?;
        let r = describe_rule(cx, &arn)
            .await?
            .ok_or_else(|| vanished("DescribeRules", "rule", &arn))?;
        let listener = str_of(prior, "listener_arn")
            .unwrap_or_default()
            .to_string();
        rule_state(cx, &r, &listener, planned).await
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        match cx
            .elbv2
            .delete_rule()
            .rule_arn(str_of(state, "arn").unwrap_or_default())
            .send()
            .await
            .map_err(|e| sdk("DeleteRule", e))
        {
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }
}

// ---------------------------------------------------------------- aws_lb_target_group_attachment

fn target(planned: &Value) -> t::TargetDescription {
    t::TargetDescription::builder()
        .id(str_of(planned, "target_id").unwrap_or_default())
        .set_port(int_of(planned, "port"))
        .build()
}

#[async_trait]
impl AwsResource for TargetGroupAttachment {
    fn name(&self) -> &'static str {
        "aws_lb_target_group_attachment"
    }

    fn taggable(&self) -> bool {
        false
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr(
                "target_group_arn",
                Attribute::required(Type::String).force_new(),
            )
            .attr("target_id", Attribute::required(Type::String).force_new())
            .attr("port", Attribute::optional(Type::Number).force_new())
            .attr(
                "availability_zone",
                Attribute::optional(Type::String).force_new(),
            )
    }

    async fn create(&self, cx: &Clients, planned: &Value, _token: &str) -> Result<Value, AwsError> {
        // RegisterTargets is idempotent: registering a registered target changes nothing.
        let tg = str_of(planned, "target_group_arn").unwrap_or_default();
        cx.elbv2
            .register_targets()
            .target_group_arn(tg)
            .targets(target(planned))
            .send()
            .await
            .map_err(|e| sdk("RegisterTargets", e))?;
        let mut v = planned.clone();
        let id = format!(
            "{tg},{},{}",
            str_of(planned, "target_id").unwrap_or_default(),
            int_of(planned, "port")
                .map(|p| p.to_string())
                .unwrap_or_default()
        );
        super::put(&mut v, "id", Value::from(id));
        Ok(v)
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        // Import id: `target_group_arn,target_id[,port]`.
        let mut parts = id.splitn(3, ',');
        let (tg, target_id, port) = (
            parts.next().unwrap_or_default().to_string(),
            parts.next().unwrap_or_default().to_string(),
            parts.next().and_then(|p| p.parse::<i32>().ok()),
        );
        let out = match absent_ok(
            cx.elbv2
                .describe_target_health()
                .target_group_arn(&tg)
                .send()
                .await
                .map_err(|e| sdk("DescribeTargetHealth", e)),
        )? {
            Some(o) => o,
            None => return Ok(None),
        };
        let found = out.target_health_descriptions().iter().any(|d| {
            d.target().is_some_and(|t| {
                t.id() == Some(target_id.as_str()) && (port.is_none() || t.port() == port)
            }) && d
                .target_health()
                .and_then(|h| h.state())
                .map(|s| s.as_str())
                != Some("draining")
        });
        if !found {
            return Ok(None);
        }
        Ok(Some(Value::map([
            ("id", Value::from(id)),
            ("target_group_arn", Value::from(tg)),
            ("target_id", Value::from(target_id)),
            ("port", opt_n(port)),
            (
                "availability_zone",
                prior
                    .get("availability_zone")
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
        ])))
    }

    async fn update(
        &self,
        _cx: &Clients,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        // Every argument forces a new attachment.
        Ok(planned.clone())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        match cx
            .elbv2
            .deregister_targets()
            .target_group_arn(str_of(state, "target_group_arn").unwrap_or_default())
            .targets(target(state))
            .send()
            .await
            .map_err(|e| sdk("DeregisterTargets", e))
        {
            Err(e) if !e.is_not_found() && !e.code.contains("InvalidTarget") => Err(e),
            _ => Ok(()),
        }
    }
}
