//! aws_internet_gateway

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;
use terrane_core::Value;

use super::kind::{ec2_describe, must_exist, Ec2Type};
use crate::config::Clients;
use crate::error::Result;
use crate::resources::value::{str_of, string_of};
use crate::tags;

pub struct InternetGateway;

const DELETE_TIMEOUT: Duration = Duration::from_secs(1200);

fn to_state(cx: &Clients, g: aws_sdk_ec2::types::InternetGateway, prior: &Value) -> Value {
    let id = g.internet_gateway_id().unwrap_or_default().to_string();
    let owner = g.owner_id().unwrap_or_default().to_string();
    let vpc = g
        .attachments()
        .iter()
        .find_map(|a| a.vpc_id().map(String::from));
    let tags = tags::from_sdk(g.tags());
    tags::tagged(
        Value::map([
            ("arn", super::arn(cx, &owner, "internet-gateway", &id)),
            ("id", Value::from(id)),
            ("vpc_id", vpc.map(Value::from).unwrap_or(Value::Null)),
            ("owner_id", Value::from(owner)),
        ]),
        tags,
        prior,
    )
}

async fn attach(cx: &Clients, id: &str, vpc: &str) -> Result<()> {
    done!(
        cx.ec2
            .attach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(vpc),
        "AttachInternetGateway"
    )
}

async fn detach(cx: &Clients, id: &str, vpc: &str) -> Result<()> {
    delete_retrying!(
        DELETE_TIMEOUT,
        cx.ec2
            .detach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(vpc),
        "DetachInternetGateway"
    )
}

#[async_trait]
impl Ec2Type for InternetGateway {
    ec2_describe!(
        InternetGateway,
        "DescribeInternetGateways",
        "internet-gateway-id",
        "internet gateway",
        internet_gateway_id,
        describe_internet_gateways.internet_gateways
    );

    async fn state(cx: &Clients, d: Self::Desc, prior: &Value) -> Result<Value> {
        Ok(to_state(cx, d, prior))
    }

    async fn made_by_aws(cx: &Clients, all: &[Self::Desc]) -> Result<Vec<bool>> {
        let defaults = super::default_vpcs(cx).await?;
        Ok(all
            .iter()
            .map(|g| {
                g.attachments()
                    .iter()
                    .any(|a| a.vpc_id().is_some_and(|v| defaults.contains(v)))
            })
            .collect())
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let req = cx
            .ec2
            .create_internet_gateway()
            .tag_specifications(super::tag_spec(
                ResourceType::InternetGateway,
                planned,
                token,
            ));
        let id = super::create_once!(
            cx,
            req,
            "CreateInternetGateway",
            "internet-gateway",
            token,
            internet_gateway.internet_gateway_id
        )?;
        if let Some(vpc) = str_of(planned, "vpc_id") {
            attach(cx, &id, vpc).await?;
        }
        let g = must_exist::<InternetGateway>(cx, &id).await?;
        Ok(to_state(cx, g, planned))
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let id = string_of(prior, "id");
        let (old, new) = (str_of(prior, "vpc_id"), str_of(planned, "vpc_id"));
        if old != new {
            if let Some(o) = old {
                detach(cx, &id, o).await?;
            }
            if let Some(n) = new {
                attach(cx, &id, n).await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let id = string_of(state, "id");
        if let Some(vpc) = str_of(state, "vpc_id") {
            detach(cx, &id, vpc).await?;
        }
        delete_retrying!(
            state,
            DELETE_TIMEOUT,
            cx.ec2.delete_internet_gateway().internet_gateway_id(&id),
            "DeleteInternetGateway"
        )
    }
}
