//! aws_eip.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, Filter, ResourceType};
use futures::future::BoxFuture;
use terrane_core::Value;

use super::kind::{ec2_describe, must_exist, Ec2Type};
use crate::config::Clients;
use crate::error::Result;
use crate::resources::value::{str_of, string_of};
use crate::tags;

pub struct Eip;

const NAT_TIMEOUT: Duration = Duration::from_secs(600);

fn eip_state(cx: &Clients, a: aws_sdk_ec2::types::Address, prior: &Value) -> Value {
    let id = a.allocation_id().unwrap_or_default().to_string();
    let tags = tags::from_sdk(a.tags());
    tags::tagged(
        Value::map([
            (
                "arn",
                Value::from(format!("arn:aws:ec2:{}::elastic-ip/{}", cx.region, id)),
            ),
            ("allocation_id", Value::from(id.as_str())),
            ("id", Value::from(id)),
            (
                "domain",
                Value::from(a.domain().map(|d| d.as_str()).unwrap_or("vpc")),
            ),
            ("public_ip", Value::from(a.public_ip().unwrap_or_default())),
            (
                "association_id",
                a.association_id().map(Value::from).unwrap_or(Value::Null),
            ),
        ]),
        tags,
        prior,
    )
}

#[async_trait]
impl Ec2Type for Eip {
    ec2_describe!(
        Address,
        "DescribeAddresses",
        "allocation-id",
        "Elastic IP",
        allocation_id
    );

    /// DescribeAddresses answers in one page.
    fn describe_where(
        cx: &Clients,
        filters: Vec<Filter>,
    ) -> BoxFuture<'_, Result<Vec<Self::Desc>>> {
        Box::pin(async move {
            Ok(call!(
                cx.ec2.describe_addresses().set_filters(Some(filters)),
                "DescribeAddresses"
            )?
            .addresses
            .unwrap_or_default())
        })
    }

    async fn state(cx: &Clients, d: Self::Desc, prior: &Value) -> Result<Value> {
        Ok(eip_state(cx, d, prior))
    }

    /// EC2-Classic addresses have no allocation id: not this type.
    fn listed(d: &Self::Desc) -> bool {
        d.allocation_id().is_some()
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let req = cx
            .ec2
            .allocate_address()
            .domain(DomainType::from(str_of(planned, "domain").unwrap_or("vpc")))
            .tag_specifications(super::tag_spec(ResourceType::ElasticIp, planned, token));
        // Found by its token tag through DescribeAddresses (DescribeTags names the type
        // differently across implementations: "elastic-ip" on AWS, "vpc-elastic-ip" in moto).
        let id = crate::resources::lifecycle::create_then_find(
            "AllocateAddress",
            || super::send_once!(req),
            |out| out.allocation_id,
            || async {
                let found = Self::describe_where(cx, vec![super::token_filter(token)]).await?;
                Ok(found
                    .first()
                    .and_then(|a| a.allocation_id().map(String::from)))
            },
        )
        .await?;
        let a = must_exist::<Eip>(cx, &id).await?;
        Ok(eip_state(cx, a, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let id = string_of(state, "id");
        delete_retrying!(
            NAT_TIMEOUT,
            cx.ec2.release_address().allocation_id(&id),
            "ReleaseAddress"
        )
    }
}
