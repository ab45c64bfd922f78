//! aws_vpc

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Tenancy, VpcAttributeName};
use terrane_core::Value;

use super::kind::{ec2_describe, must_exist, wait_available, Ec2Type};
use super::{filter, route_tables, SecurityGroup};
use crate::config::Clients;
use crate::error::Result;
use crate::resources::value::{bool_of, str_of, string_of, text_of};
use crate::tags;

pub struct Vpc;

const CREATE_TIMEOUT: Duration = Duration::from_secs(600);
const DELETE_TIMEOUT: Duration = Duration::from_secs(1200);

async fn attribute(cx: &Clients, id: &str, a: VpcAttributeName) -> Result<bool> {
    let out = call!(
        cx.ec2
            .describe_vpc_attribute()
            .vpc_id(id)
            .attribute(a.clone()),
        "DescribeVpcAttribute"
    )?;
    let v = match a {
        VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames.and_then(|b| b.value),
        _ => out.enable_dns_support.and_then(|b| b.value),
    };
    Ok(v.unwrap_or(false))
}

async fn set_attribute(
    cx: &Clients,
    id: &str,
    hostnames: Option<bool>,
    support: Option<bool>,
) -> Result<()> {
    // ModifyVpcAttribute takes one attribute per call.
    for (set, is_hostnames) in [(support, false), (hostnames, true)] {
        let Some(b) = set else { continue };
        let v = AttributeBooleanValue::builder().value(b).build();
        let req = cx.ec2.modify_vpc_attribute().vpc_id(id);
        let req = if is_hostnames {
            req.enable_dns_hostnames(v)
        } else {
            req.enable_dns_support(v)
        };
        call!(req, "ModifyVpcAttribute")?;
    }
    Ok(())
}

async fn to_state(cx: &Clients, v: aws_sdk_ec2::types::Vpc, prior: &Value) -> Result<Value> {
    let id = v.vpc_id().unwrap_or_default().to_string();
    let support = attribute(cx, &id, VpcAttributeName::EnableDnsSupport).await?;
    let hostnames = attribute(cx, &id, VpcAttributeName::EnableDnsHostnames).await?;
    // The VPC's main route table and default security group, which AWS made with it.
    let vpc_filter = || filter("vpc-id", &id);
    let main_rt = route_tables(cx, vec![vpc_filter(), filter("association.main", "true")])
        .await?
        .into_iter()
        .find_map(|r| r.route_table_id)
        .unwrap_or_default();
    let default_sg =
        SecurityGroup::describe_where(cx, vec![vpc_filter(), filter("group-name", "default")])
            .await?
            .into_iter()
            .find_map(|g| g.group_id)
            .unwrap_or_default();
    let tags = tags::from_sdk(v.tags());
    let owner = v.owner_id().unwrap_or_default().to_string();
    Ok(tags::tagged(
        Value::map([
            ("id", Value::from(id.as_str())),
            ("arn", super::arn(cx, &owner, "vpc", &id)),
            (
                "cidr_block",
                Value::from(v.cidr_block().unwrap_or_default()),
            ),
            (
                "instance_tenancy",
                Value::from(
                    v.instance_tenancy()
                        .map(|t| t.as_str())
                        .unwrap_or("default"),
                ),
            ),
            ("enable_dns_support", Value::Bool(support)),
            ("enable_dns_hostnames", Value::Bool(hostnames)),
            ("main_route_table_id", Value::from(main_rt.as_str())),
            ("default_route_table_id", Value::from(main_rt)),
            ("default_security_group_id", Value::from(default_sg)),
            (
                "dhcp_options_id",
                Value::from(v.dhcp_options_id().unwrap_or_default()),
            ),
            ("owner_id", Value::from(owner)),
        ]),
        tags,
        prior,
    ))
}

#[async_trait]
impl Ec2Type for Vpc {
    ec2_describe!(
        Vpc,
        "DescribeVpcs",
        "vpc-id",
        "VPC",
        vpc_id,
        describe_vpcs.vpcs
    );

    fn state_of(d: &Self::Desc) -> Option<&str> {
        d.state().map(|s| s.as_str())
    }

    async fn state(cx: &Clients, d: Self::Desc, prior: &Value) -> Result<Value> {
        to_state(cx, d, prior).await
    }

    fn made_by_aws_alone(v: &Self::Desc) -> bool {
        v.is_default() == Some(true)
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let cidr = text_of(planned, "cidr_block");
        let tenancy = Tenancy::from(str_of(planned, "instance_tenancy").unwrap_or("default"));
        let req = cx
            .ec2
            .create_vpc()
            .cidr_block(cidr)
            .instance_tenancy(tenancy)
            .tag_specifications(super::tag_spec(ResourceType::Vpc, planned, token));
        let id = super::create_once!(cx, req, "CreateVpc", "vpc", token, vpc.vpc_id)?;
        wait_available::<Vpc>(
            cx,
            &id,
            crate::resources::lifecycle::timeout(planned, "create", CREATE_TIMEOUT),
        )
        .await?;
        let support = bool_of(planned, "enable_dns_support").unwrap_or(true);
        let hostnames = bool_of(planned, "enable_dns_hostnames").unwrap_or(false);
        set_attribute(
            cx,
            &id,
            hostnames.then_some(true),
            (!support).then_some(false),
        )
        .await?;
        let v = must_exist::<Vpc>(cx, &id).await?;
        to_state(cx, v, planned).await
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let id = string_of(prior, "id");
        let changed = |k: &str| prior.get(k) != planned.get(k);
        set_attribute(
            cx,
            &id,
            changed("enable_dns_hostnames")
                .then(|| bool_of(planned, "enable_dns_hostnames").unwrap_or(false)),
            changed("enable_dns_support")
                .then(|| bool_of(planned, "enable_dns_support").unwrap_or(true)),
        )
        .await
    }

    delete_by! { retrying DELETE_TIMEOUT; ec2.delete_vpc(vpc_id = "id") => "DeleteVpc" }
}
