//! aws_region.

use super::*;
use crate::error::Result;

pub struct Region;

#[async_trait]
impl AwsData for Region {
    async fn read(&self, cx: &Clients, config: &Value) -> Result<Value> {
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
