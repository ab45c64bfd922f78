//! aws_iam_role_policy_attachment.

use super::*;

#[async_trait]
impl AwsResource for IamRolePolicyAttachment {
    fn name(&self) -> &'static str {
        "aws_iam_role_policy_attachment"
    }

    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>, AwsError> {
        let mut out = Vec::new();
        for role in role_names(cx).await? {
            let attached: Vec<t::AttachedPolicy> = items!(
                cx.iam.list_attached_role_policies().role_name(&role),
                "ListAttachedRolePolicies"
            );
            for p in attached {
                let arn = p.policy_arn().unwrap_or_default();
                out.push(Listed::new(Value::map([
                    ("id", Value::from(format!("{role}/{arn}"))),
                    ("role", Value::from(role.as_str())),
                    ("policy_arn", Value::from(arn)),
                ])));
            }
        }
        Ok(out)
    }

    fn references(&self) -> &'static [(&'static str, &'static str)] {
        &[("role", "aws_iam_role"), ("policy_arn", "aws_iam_policy")]
    }

    fn taggable(&self) -> bool {
        false
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("role", Attribute::required(Type::String).force_new())
            .attr("policy_arn", Attribute::required(Type::String).force_new())
    }

    async fn create(&self, cx: &Clients, planned: &Value, _token: &str) -> Result<Value, AwsError> {
        let (role, arn) = (
            str_of(planned, "role").unwrap_or_default(),
            str_of(planned, "policy_arn").unwrap_or_default(),
        );
        cx.iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| sdk("AttachRolePolicy", e))?;
        let mut v = planned.clone();
        put(&mut v, "id", Value::from(format!("{role}/{arn}")));
        Ok(v)
    }

    async fn read(
        &self,
        cx: &Clients,
        id: &str,
        _prior: &Value,
    ) -> Result<Option<Value>, AwsError> {
        let Some((role, arn)) = id.split_once('/') else {
            return Ok(None);
        };
        let out = match cx
            .iam
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => {
                let e = sdk("ListAttachedRolePolicies", e);
                return if e.is_not_found() { Ok(None) } else { Err(e) };
            }
        };
        let found = out
            .attached_policies()
            .iter()
            .any(|p| p.policy_arn() == Some(arn));
        Ok(found.then(|| {
            Value::map([
                ("id", Value::from(id)),
                ("role", Value::from(role)),
                ("policy_arn", Value::from(arn)),
            ])
        }))
    }

    async fn update(
        &self,
        _cx: &Clients,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        Ok(planned.clone())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let (role, arn) = (
            str_of(state, "role").unwrap_or_default().to_string(),
            str_of(state, "policy_arn").unwrap_or_default().to_string(),
        );
        match cx
            .iam
            .detach_role_policy()
            .role_name(&role)
            .policy_arn(&arn)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = sdk("DetachRolePolicy", e);
                if e.is_not_found() {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}
