//! aws_iam_role_policy: a policy inline in a role.

use super::*;

#[async_trait]
impl AwsResource for IamRolePolicy {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let mut ids = Vec::new();
        for role in role_names(cx).await? {
            let names: Vec<String> = items!(
                cx.iam.list_role_policies().role_name(&role),
                "ListRolePolicies"
            );
            ids.extend(names.into_iter().map(|n| format!("{role}:{n}")));
        }
        read_each(self, cx, ids).await
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_json(config, "policy", "policy document", IAM_HINT)
    }

    fn adjust_plan(&self, Planning { prior, planned, .. }: Planning<'_>) {
        keep_equivalent(prior, planned, "policy");
    }

    async fn create(&self, cx: &Clients, planned: &Value, _token: &str) -> Result<Value> {
        // PutRolePolicy sets the role's one policy of that name: a retry is harmless.
        self.put(cx, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        // Id: `role:name`.
        let Some((role, name)) = id.split_once(':') else {
            return Ok(None);
        };
        let Some(out) = absent_ok(call!(
            cx.iam.get_role_policy().role_name(role).policy_name(name),
            "GetRolePolicy"
        ))?
        else {
            return Ok(None);
        };
        Ok(Some(Value::map([
            ("id", Value::from(id)),
            ("role", Value::from(role)),
            ("name", Value::from(name)),
            (
                "policy",
                Value::from(keep_prior_if_same(
                    out.policy_document(),
                    str_of(prior, "policy"),
                )),
            ),
        ])))
    }

    async fn update(&self, cx: &Clients, _prior: &Value, planned: &Value) -> Result<Value> {
        self.put(cx, planned).await
    }

    delete_by! {
        iam.delete_role_policy(role_name = "role", policy_name = "name") => "DeleteRolePolicy"
    }
}

impl IamRolePolicy {
    async fn put(&self, cx: &Clients, planned: &Value) -> Result<Value> {
        let role = text_of(planned, "role");
        let name = text_of(planned, "name");
        call!(
            cx.iam
                .put_role_policy()
                .role_name(role)
                .policy_name(name)
                .policy_document(text_of(planned, "policy")),
            "PutRolePolicy"
        )?;
        let mut v = planned.clone();
        put(&mut v, "id", Value::from(format!("{role}:{name}")));
        Ok(v)
    }
}
