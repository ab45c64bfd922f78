//! aws_availability_zones.

use super::*;
use crate::error::Result;

pub struct AvailabilityZones;

#[async_trait]
impl AwsData for AvailabilityZones {
    async fn read(&self, cx: &Clients, config: &Value) -> Result<Value> {
        let mut req = cx.ec2.describe_availability_zones();
        if let Some(s) = config.get("state").and_then(Value::as_str) {
            req = req.filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("state")
                    .values(s)
                    .build(),
            );
        }
        let out = call!(req, "DescribeAvailabilityZones")?;
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
