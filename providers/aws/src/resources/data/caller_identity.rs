//! aws_caller_identity.

use super::*;
use crate::error::Result;

pub struct CallerIdentity;

#[async_trait]
impl AwsData for CallerIdentity {
    async fn read(&self, cx: &Clients, _config: &Value) -> Result<Value> {
        let out = call!(cx.sts.get_caller_identity(), "GetCallerIdentity")?;
        let account = out.account().unwrap_or_default();
        Ok(Value::map([
            ("id", Value::from(account)),
            ("account_id", Value::from(account)),
            ("arn", Value::from(out.arn().unwrap_or_default())),
            ("user_id", Value::from(out.user_id().unwrap_or_default())),
        ]))
    }
}
