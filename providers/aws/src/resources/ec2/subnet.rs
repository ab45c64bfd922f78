//! aws_subnet

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
use terrane_core::Value;

use super::kind::{ec2_describe, must_exist, wait_available, Ec2Type};
use crate::config::Clients;
use crate::error::Result;
use crate::resources::value::{bool_of, str_of, string_of, text_of};
use crate::tags;

pub struct Subnet;

const CREATE_TIMEOUT: Duration = Duration::from_secs(600);
const DELETE_TIMEOUT: Duration = Duration::from_secs(1200);

fn to_state(s: aws_sdk_ec2::types::Subnet, prior: &Value) -> Value {
    let tags = tags::from_sdk(s.tags());
    tags::tagged(
        Value::map([
            ("id", Value::from(s.subnet_id().unwrap_or_default())),
            ("arn", Value::from(s.subnet_arn().unwrap_or_default())),
            ("vpc_id", Value::from(s.vpc_id().unwrap_or_default())),
            (
                "cidr_block",
                Value::from(s.cidr_block().unwrap_or_default()),
            ),
            (
                "availability_zone",
                Value::from(s.availability_zone().unwrap_or_default()),
            ),
            (
                "availability_zone_id",
                Value::from(s.availability_zone_id().unwrap_or_default()),
            ),
            (
                "map_public_ip_on_launch",
                Value::Bool(s.map_public_ip_on_launch().unwrap_or(false)),
            ),
            ("owner_id", Value::from(s.owner_id().unwrap_or_default())),
        ]),
        tags,
        prior,
    )
}

async fn set_public_ip(cx: &Clients, id: &str, b: bool) -> Result<()> {
    done!(
        cx.ec2
            .modify_subnet_attribute()
            .subnet_id(id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(b).build()),
        "ModifySubnetAttribute"
    )
}

#[async_trait]
impl Ec2Type for Subnet {
    ec2_describe!(
        Subnet,
        "DescribeSubnets",
        "subnet-id",
        "subnet",
        subnet_id,
        describe_subnets.subnets
    );

    fn state_of(d: &Self::Desc) -> Option<&str> {
        d.state().map(|s| s.as_str())
    }

    async fn state(_cx: &Clients, d: Self::Desc, prior: &Value) -> Result<Value> {
        Ok(to_state(d, prior))
    }

    fn made_by_aws_alone(s: &Self::Desc) -> bool {
        s.default_for_az() == Some(true)
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let mut req = cx
            .ec2
            .create_subnet()
            .vpc_id(text_of(planned, "vpc_id"))
            .cidr_block(text_of(planned, "cidr_block"))
            .tag_specifications(super::tag_spec(ResourceType::Subnet, planned, token));
        if let Some(az) = str_of(planned, "availability_zone") {
            req = req.availability_zone(az);
        }
        let id = super::create_once!(cx, req, "CreateSubnet", "subnet", token, subnet.subnet_id)?;
        let s = wait_available::<Subnet>(
            cx,
            &id,
            crate::resources::lifecycle::timeout(planned, "create", CREATE_TIMEOUT),
        )
        .await?;
        if bool_of(planned, "map_public_ip_on_launch") == Some(true) {
            set_public_ip(cx, &id, true).await?;
            let s = must_exist::<Subnet>(cx, &id).await?;
            return Ok(to_state(s, planned));
        }
        Ok(to_state(s, planned))
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let id = string_of(prior, "id");
        if prior.get("map_public_ip_on_launch") != planned.get("map_public_ip_on_launch") {
            set_public_ip(
                cx,
                &id,
                bool_of(planned, "map_public_ip_on_launch").unwrap_or(false),
            )
            .await?;
        }
        Ok(())
    }

    delete_by! { retrying DELETE_TIMEOUT; ec2.delete_subnet(subnet_id = "id") => "DeleteSubnet" }
}
