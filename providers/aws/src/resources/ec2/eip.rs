//! aws_eip.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, ResourceType, TagSpecification};
use terrane_core::{Attribute, ResourceSchema, Type, Value};

use super::{sync_tags, token_filter};
use crate::config::Clients;
use crate::error::{retry_dependency, sdk, AwsError};
use crate::resources::kind::{AwsResource, Listed};
use crate::resources::value::str_of;
use crate::tags;

pub struct Eip;

const NAT_TIMEOUT: Duration = Duration::from_secs(600);

async fn describe_eip(
    cx: &Clients,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::Address>, AwsError> {
    match cx.ec2.describe_addresses().allocation_ids(id).send().await {
        Ok(o) => Ok(o.addresses.unwrap_or_default().into_iter().next()),
        Err(e) => {
            let e = sdk("DescribeAddresses", e);
            if e.is_not_found() || e.is("InvalidAllocationID.NotFound") {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

fn eip_state(cx: &Clients, a: aws_sdk_ec2::types::Address, prior: &Value) -> Value {
    let id = a.allocation_id().unwrap_or_default().to_string();
    let (tags, tags_all) = tags::split(tags::from_ec2(a.tags()), prior);
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
        ("tags", tags),
        ("tags_all", tags_all),
    ])
}

#[async_trait]
impl AwsResource for Eip {
    fn name(&self) -> &'static str {
        "aws_eip"
    }

    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>, AwsError> {
        let out = cx
            .ec2
            .describe_addresses()
            .send()
            .await
            .map_err(|e| sdk("DescribeAddresses", e))?;
        Ok(out
            .addresses
            .unwrap_or_default()
            .into_iter()
            .filter(|a| a.allocation_id().is_some())
            .map(|a| Listed::new(eip_state(cx, a, &Value::Null)))
            .collect())
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("allocation_id", Attribute::computed(Type::String))
            .attr("association_id", Attribute::computed(Type::String))
            .attr(
                "domain",
                Attribute::optional(Type::String)
                    .with_default("vpc")
                    .force_new(),
            )
            .attr("public_ip", Attribute::computed(Type::String))
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        let req = cx
            .ec2
            .allocate_address()
            .domain(DomainType::from(str_of(planned, "domain").unwrap_or("vpc")))
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::ElasticIp)
                    .set_tags(Some(tags::ec2_tags(&tags::wanted(planned), Some(token))))
                    .build(),
            );
        // Found by its token tag through DescribeAddresses (DescribeTags names the type
        // differently across implementations: "elastic-ip" on AWS, "vpc-elastic-ip" in moto).
        let id = crate::resources::lifecycle::create_then_find(
            "AllocateAddress",
            || {
                req.clone()
                    .customize()
                    .config_override(super::no_retry())
                    .send()
            },
            |out| out.allocation_id,
            || async {
                let out = cx
                    .ec2
                    .describe_addresses()
                    .filters(super::token_filter(token))
                    .send()
                    .await
                    .map_err(|e| sdk("DescribeAddresses", e))?;
                Ok(out
                    .addresses()
                    .first()
                    .and_then(|a| a.allocation_id().map(String::from)))
            },
        )
        .await?;
        let a = describe_eip(cx, &id).await?.ok_or_else(|| {
            AwsError::new(
                "DescribeAddresses",
                "InvalidAllocationID.NotFound",
                format!("{id} vanished"),
            )
        })?;
        Ok(eip_state(cx, a, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        Ok(describe_eip(cx, id).await?.map(|a| eip_state(cx, a, prior)))
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let id = str_of(prior, "id").unwrap_or_default().to_string();
        sync_tags(cx, &id, prior, planned).await?;
        let a = describe_eip(cx, &id).await?.ok_or_else(|| {
            AwsError::new(
                "DescribeAddresses",
                "InvalidAllocationID.NotFound",
                format!("{id} does not exist"),
            )
        })?;
        Ok(eip_state(cx, a, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let id = str_of(state, "id").unwrap_or_default().to_string();
        retry_dependency(NAT_TIMEOUT, || async {
            cx.ec2
                .release_address()
                .allocation_id(&id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("ReleaseAddress", e))
        })
        .await
    }

    async fn find_by_token(
        &self,
        cx: &Clients,
        token: &str,
        _planned: &Value,
    ) -> Result<Option<Value>, AwsError> {
        let out = cx
            .ec2
            .describe_addresses()
            .filters(token_filter(token))
            .send()
            .await
            .map_err(|e| sdk("DescribeAddresses", e))?;
        Ok(out
            .addresses
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(|a| eip_state(cx, a, &Value::Null)))
    }
}
