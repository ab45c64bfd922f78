//! Data sources: aws_caller_identity, aws_region, aws_availability_zones.

use std::sync::Arc;

use async_trait::async_trait;
use terrane_core::{Attribute, ResourceSchema, Type, Value};

use super::AwsData;
use crate::config::Clients;
use crate::error::{sdk, AwsError};

pub fn all() -> Vec<Arc<dyn AwsData>> {
    vec![
        Arc::new(CallerIdentity),
        Arc::new(Region),
        Arc::new(AvailabilityZones),
    ]
}

struct CallerIdentity;

#[async_trait]
impl AwsData for CallerIdentity {
    fn name(&self) -> &'static str {
        "aws_caller_identity"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("account_id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("user_id", Attribute::computed(Type::String))
    }
    async fn read(&self, cx: &Clients, _config: &Value) -> Result<Value, AwsError> {
        let out = cx
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| sdk("GetCallerIdentity", e))?;
        let account = out.account().unwrap_or_default();
        Ok(Value::map([
            ("id", Value::from(account)),
            ("account_id", Value::from(account)),
            ("arn", Value::from(out.arn().unwrap_or_default())),
            ("user_id", Value::from(out.user_id().unwrap_or_default())),
        ]))
    }
}

struct Region;

#[async_trait]
impl AwsData for Region {
    fn name(&self) -> &'static str {
        "aws_region"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::optional_computed(Type::String))
            .attr("region", Attribute::optional_computed(Type::String))
            .attr("description", Attribute::computed(Type::String))
            .attr("endpoint", Attribute::computed(Type::String))
    }
    async fn read(&self, cx: &Clients, config: &Value) -> Result<Value, AwsError> {
        let name = config
            .get("name")
            .or(config.get("region"))
            .and_then(Value::as_str)
            .unwrap_or(&cx.region)
            .to_string();
        Ok(Value::map([
            ("id", Value::from(name.as_str())),
            ("name", Value::from(name.as_str())),
            ("region", Value::from(name.as_str())),
            ("description", Value::from(name.as_str())),
            ("endpoint", Value::from(format!("ec2.{name}.amazonaws.com"))),
        ]))
    }
}

struct AvailabilityZones;

#[async_trait]
impl AwsData for AvailabilityZones {
    fn name(&self) -> &'static str {
        "aws_availability_zones"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("state", Attribute::optional(Type::String))
            .attr("names", Attribute::computed(Type::list(Type::String)))
            .attr("zone_ids", Attribute::computed(Type::list(Type::String)))
    }
    async fn read(&self, cx: &Clients, config: &Value) -> Result<Value, AwsError> {
        let mut req = cx.ec2.describe_availability_zones();
        if let Some(s) = config.get("state").and_then(Value::as_str) {
            req = req.filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("state")
                    .values(s)
                    .build(),
            );
        }
        let out = req
            .send()
            .await
            .map_err(|e| sdk("DescribeAvailabilityZones", e))?;
        let mut zones: Vec<(String, String)> = out
            .availability_zones
            .unwrap_or_default()
            .into_iter()
            .map(|z| {
                (
                    z.zone_name.unwrap_or_default(),
                    z.zone_id.unwrap_or_default(),
                )
            })
            .collect();
        zones.sort();
        Ok(Value::map([
            ("id", Value::from(cx.region.as_str())),
            ("state", config.get("state").cloned().unwrap_or(Value::Null)),
            (
                "names",
                Value::List(zones.iter().map(|z| Value::from(z.0.as_str())).collect()),
            ),
            (
                "zone_ids",
                Value::List(zones.iter().map(|z| Value::from(z.1.as_str())).collect()),
            ),
        ]))
    }
}
