//! aws_iam_role_policy_attachment.

use super::*;

fn attachment(role: &str, arn: &str) -> Value {
    Value::map([
        ("id", Value::from(format!("{role}/{arn}"))),
        ("role", Value::from(role)),
        ("policy_arn", Value::from(arn)),
    ])
}

/// The ARNs of the managed policies attached to `role` (none when the role is gone).
async fn attached_to(cx: &Clients, role: &str) -> Result<Vec<String>> {
    Ok(pages_if_there!(
        cx.iam.list_attached_role_policies().role_name(role),
        "ListAttachedRolePolicies",
        attached_policies
    )
    .filter_map(|p| p.policy_arn)
    .collect())
}

/// The names of the roles `policy` is attached to (none when the policy is gone).
async fn roles_of(cx: &Clients, policy: &str) -> Result<Vec<String>> {
    let req = cx.iam.list_entities_for_policy().policy_arn(policy);
    Ok(pages_if_there!(
        req.entity_filter(t::EntityType::Role),
        "ListEntitiesForPolicy",
        policy_roles
    )
    .filter_map(|r| r.role_name)
    .collect())
}

#[async_trait]
impl AwsResource for IamRolePolicyAttachment {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        for role in role_names(cx).await? {
            let attached: Vec<t::AttachedPolicy> = items!(
                cx.iam.list_attached_role_policies().role_name(&role),
                "ListAttachedRolePolicies"
            );
            for p in attached {
                let arn = p.policy_arn().unwrap_or_default();
                out.push(Listed::new(attachment(&role, arn)));
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &Clients, planned: &Value, _token: &str) -> Result<Value> {
        let (role, arn) = (text_of(planned, "role"), text_of(planned, "policy_arn"));
        call!(
            cx.iam.attach_role_policy().role_name(role).policy_arn(arn),
            "AttachRolePolicy"
        )?;
        let mut v = planned.clone();
        put(&mut v, "id", Value::from(format!("{role}/{arn}")));
        Ok(v)
    }

    async fn read(&self, cx: &Clients, id: &str, _prior: &Value) -> Result<Option<Value>> {
        let Some((role, arn)) = id.split_once('/') else {
            return Ok(None);
        };
        Ok(attached_to(cx, role)
            .await?
            .iter()
            .any(|a| a == arn)
            .then(|| attachment(role, arn)))
    }

    fn read_batch(&self) -> Option<usize> {
        Some(100)
    }

    /// IAM has no call that answers for many attachments by id: a batch asks per role
    /// (ListAttachedRolePolicies) or per policy (ListEntitiesForPolicy, its roles), whichever
    /// takes fewer calls (an environment's execution roles share one policy).
    async fn read_many(&self, cx: &Clients, priors: &[&Value]) -> Result<Vec<Option<Value>>> {
        let pair = |p: &Value| {
            let id = text_of(p, "id");
            let (r, a) = id.split_once('/').unwrap_or((id, ""));
            (r.to_string(), a.to_string())
        };
        let by_role = grouped_by(priors, |p| pair(p).0);
        let by_policy = grouped_by(priors, |p| pair(p).1);
        let mut out: Vec<Option<Value>> = priors.iter().map(|_| None).collect();
        if by_policy.len() < by_role.len() {
            for (arn, at) in by_policy {
                let roles = roles_of(cx, &arn).await?;
                for i in at {
                    let (role, _) = pair(priors[i]);
                    out[i] = roles.contains(&role).then(|| attachment(&role, &arn));
                }
            }
        } else {
            for (role, at) in by_role {
                let arns = attached_to(cx, &role).await?;
                for i in at {
                    let (_, arn) = pair(priors[i]);
                    out[i] = arns.contains(&arn).then(|| attachment(&role, &arn));
                }
            }
        }
        Ok(out)
    }

    async fn update(&self, _cx: &Clients, _prior: &Value, planned: &Value) -> Result<Value> {
        Ok(planned.clone())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let (role, arn) = (string_of(state, "role"), string_of(state, "policy_arn"));
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
