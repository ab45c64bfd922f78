//! aws_iam_policy.

use super::*;

async fn get_policy(cx: &Clients, arn: &str) -> Result<Option<(t::Policy, String)>> {
    let Some(p) =
        absent_ok(call!(cx.iam.get_policy().policy_arn(arn), "GetPolicy"))?.and_then(|o| o.policy)
    else {
        return Ok(None);
    };
    let version = p.default_version_id().unwrap_or("v1").to_string();
    let doc = call!(
        cx.iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(&version),
        "GetPolicyVersion"
    )?
    .policy_version
    .and_then(|v| v.document)
    .unwrap_or_default();
    Ok(Some((p, doc)))
}

fn policy_state(p: &t::Policy, doc: &str, prior: &Value) -> Value {
    let tags = tags::from_sdk(p.tags());
    tags::tagged(
        Value::map([
            ("id", opt_s(p.arn())),
            ("arn", opt_s(p.arn())),
            ("name", opt_s(p.policy_name())),
            (
                "name_prefix",
                prior.get("name_prefix").cloned().unwrap_or(Value::Null),
            ),
            ("path", opt_s(p.path())),
            ("policy_id", opt_s(p.policy_id())),
            ("description", opt_s(p.description())),
            (
                "policy",
                Value::from(keep_prior_if_same(doc, str_of(prior, "policy"))),
            ),
        ]),
        tags,
        prior,
    )
}

#[async_trait]
impl AwsResource for IamPolicy {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let policies: Vec<t::Policy> = items!(
            cx.iam.list_policies().scope(t::PolicyScopeType::Local),
            "ListPolicies"
        );
        read_each(self, cx, policies.into_iter().filter_map(|p| p.arn)).await
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_json(config, "policy", "policy document", IAM_HINT)
    }

    fn adjust_plan(&self, Planning { prior, planned, .. }: Planning<'_>) {
        keep_equivalent(prior, planned, "policy");
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let name = name_or_prefix(planned, "name", token_tail(token, 12));
        let res = call!(
            cx.iam
                .create_policy()
                .policy_name(&name)
                .path(str_of(planned, "path").unwrap_or("/"))
                .set_description(str_of(planned, "description").map(String::from))
                .policy_document(text_of(planned, "policy"))
                .set_tags(Some(tags::for_create(planned, token))),
            "CreatePolicy"
        );
        let arn = match res {
            Ok(o) => o
                .policy
                .and_then(|p| p.arn)
                .ok_or_else(|| missing("CreatePolicy", "policy ARN"))?,
            Err(e) if already_exists(&e) => {
                // A retry after a lost response: adopt only the policy we made.
                let account = call!(cx.sts.get_caller_identity(), "GetCallerIdentity")?
                    .account
                    .unwrap_or_default();
                let arn = format!(
                    "arn:aws:iam::{account}:policy{}{name}",
                    str_of(planned, "path").unwrap_or("/")
                );
                match get_policy(cx, &arn).await? {
                    Some((p, _)) if tags::has_token(&tags::from_sdk(p.tags()), token) => arn,
                    _ => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        read_back(self, cx, &arn, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        Ok(get_policy(cx, id)
            .await?
            .map(|(p, doc)| policy_state(&p, &doc, prior)))
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let arn = string_of(prior, "arn");
        if changed(prior, planned, &["policy"]) {
            // At most five versions: drop the oldest non-default one first.
            let versions = call!(
                cx.iam.list_policy_versions().policy_arn(&arn),
                "ListPolicyVersions"
            )?
            .versions
            .unwrap_or_default();
            if versions.len() >= 5 {
                if let Some(old) = versions
                    .iter()
                    .filter(|v| !v.is_default_version())
                    .min_by_key(|v| v.create_date().map(|d| d.secs()))
                    .and_then(|v| v.version_id())
                {
                    call!(
                        cx.iam
                            .delete_policy_version()
                            .policy_arn(&arn)
                            .version_id(old),
                        "DeletePolicyVersion"
                    )?;
                }
            }
            call!(
                cx.iam
                    .create_policy_version()
                    .policy_arn(&arn)
                    .policy_document(text_of(planned, "policy"))
                    .set_as_default(true),
                "CreatePolicyVersion"
            )?;
        }
        Ok(())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let arn = string_of(state, "arn");
        let versions = match absent_ok(call!(
            cx.iam.list_policy_versions().policy_arn(&arn),
            "ListPolicyVersions"
        ))? {
            Some(o) => o.versions.unwrap_or_default(),
            None => return Ok(()),
        };
        for v in versions.iter().filter(|v| !v.is_default_version()) {
            if let Some(id) = v.version_id() {
                call!(
                    cx.iam
                        .delete_policy_version()
                        .policy_arn(&arn)
                        .version_id(id),
                    "DeletePolicyVersion"
                )?;
            }
        }
        // DeleteConflict while still attached somewhere.
        delete_retrying!(
            Duration::from_secs(300),
            cx.iam.delete_policy().policy_arn(&arn),
            "DeletePolicy"
        )
    }
}
