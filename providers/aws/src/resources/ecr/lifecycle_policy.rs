//! aws_ecr_lifecycle_policy.

use super::*;
use crate::error::Result;

#[async_trait]
impl AwsResource for LifecyclePolicy {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let repos: Vec<t::Repository> =
            items!(cx.ecr.describe_repositories(), "DescribeRepositories");
        read_each(
            self,
            cx,
            repos.into_iter().filter_map(|r| r.repository_name),
        )
        .await
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_json(
            config,
            "policy",
            "lifecycle policy document",
            "use jsonencode",
        )
    }

    fn adjust_plan(&self, Planning { prior, planned, .. }: Planning<'_>) {
        keep_equivalent(prior, planned, "policy");
    }

    async fn create(&self, cx: &Clients, planned: &Value, _token: &str) -> Result<Value> {
        // PutLifecyclePolicy replaces the repository's one policy: a retry is harmless.
        self.put(cx, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        let repo = str_of(prior, "repository").unwrap_or(id);
        let out = match absent_ok(call!(
            cx.ecr.get_lifecycle_policy().repository_name(repo),
            "GetLifecyclePolicy"
        ))? {
            Some(o) => o,
            None => return Ok(None),
        };
        let text = out.lifecycle_policy_text().unwrap_or_default();
        Ok(Some(Value::map([
            ("id", Value::from(repo)),
            ("repository", Value::from(repo)),
            ("registry_id", opt_s(out.registry_id())),
            (
                "policy",
                Value::from(keep_prior_if_same(text, str_of(prior, "policy"))),
            ),
        ])))
    }

    async fn update(&self, cx: &Clients, _prior: &Value, planned: &Value) -> Result<Value> {
        self.put(cx, planned).await
    }

    delete_by! {
        ecr.delete_lifecycle_policy(repository_name = "repository") => "DeleteLifecyclePolicy"
    }
}

impl LifecyclePolicy {
    async fn put(&self, cx: &Clients, planned: &Value) -> Result<Value> {
        let repo = text_of(planned, "repository");
        let out = call!(
            cx.ecr
                .put_lifecycle_policy()
                .repository_name(repo)
                .lifecycle_policy_text(text_of(planned, "policy")),
            "PutLifecyclePolicy"
        )?;
        Ok(Value::map([
            ("id", Value::from(repo)),
            ("repository", Value::from(repo)),
            ("registry_id", opt_s(out.registry_id())),
            (
                "policy",
                planned.get("policy").cloned().unwrap_or(Value::Null),
            ),
        ]))
    }
}
