//! aws_iam_openid_connect_provider, and the check of trust policies that name GitHub's provider.

use super::*;

async fn get_oidc(
    cx: &Clients,
    arn: &str,
) -> Result<
    Option<aws_sdk_iam::operation::get_open_id_connect_provider::GetOpenIdConnectProviderOutput>,
    AwsError,
> {
    absent_ok(call!(
        cx.iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn),
        "GetOpenIDConnectProvider"
    ))
}

fn oidc_state(
    arn: &str,
    o: &aws_sdk_iam::operation::get_open_id_connect_provider::GetOpenIdConnectProviderOutput,
    prior: &Value,
) -> Value {
    let tags = tags::from_sdk(o.tags());
    // AWS returns the URL without its scheme; keep the user's spelling.
    let url = o.url().unwrap_or_default();
    let url = match str_of(prior, "url") {
        Some(p) if p.trim_start_matches("https://") == url.trim_start_matches("https://") => {
            p.to_string()
        }
        _ => format!("https://{}", url.trim_start_matches("https://")),
    };
    tags::tagged(
        Value::map([
            ("id", Value::from(arn)),
            ("arn", Value::from(arn)),
            ("url", Value::from(url)),
            ("client_id_list", str_set(o.client_id_list())),
            ("thumbprint_list", str_set(o.thumbprint_list())),
        ]),
        tags,
        prior,
    )
}

#[async_trait]
impl AwsResource for OidcProvider {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let list = call!(
            cx.iam.list_open_id_connect_providers(),
            "ListOpenIDConnectProviders"
        )?;
        let arns = list.open_id_connect_provider_list.unwrap_or_default();
        read_each(self, cx, arns.into_iter().filter_map(|p| p.arn)).await
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        match str_of(config, "url") {
            Some(u) if !u.starts_with("https://") => vec![Diagnostic::error(
                "Invalid url",
                format!("url must start with https:// (got {u:?})"),
            )
            .for_attribute("url")],
            _ => Vec::new(),
        }
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let url = text_of(planned, "url");
        let res = call!(
            cx.iam
                .create_open_id_connect_provider()
                .url(url)
                .set_client_id_list(Some(strs_of(planned, "client_id_list")))
                .set_thumbprint_list(
                    Some(strs_of(planned, "thumbprint_list")).filter(|v| !v.is_empty()),
                )
                .set_tags(Some(tags::for_create(planned, token))),
            "CreateOpenIDConnectProvider"
        );
        let arn = match res {
            Ok(o) => o
                .open_id_connect_provider_arn
                .ok_or_else(|| missing("CreateOpenIDConnectProvider", "provider ARN"))?,
            Err(e) if already_exists(&e) => {
                // One provider per URL per account: adopt it only if we made it.
                let list = call!(
                    cx.iam.list_open_id_connect_providers(),
                    "ListOpenIDConnectProviders"
                )?;
                let host = url.trim_start_matches("https://");
                let mut found = None;
                for p in list.open_id_connect_provider_list() {
                    let Some(arn) = p.arn() else { continue };
                    if !arn.ends_with(&format!("oidc-provider/{host}")) {
                        continue;
                    }
                    if let Some(o) = get_oidc(cx, arn).await? {
                        if tags::has_token(&tags::from_sdk(o.tags()), token) {
                            found = Some(arn.to_string());
                        }
                    }
                }
                found.ok_or(e)?
            }
            Err(e) => return Err(e),
        };
        read_back(self, cx, &arn, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        Ok(get_oidc(cx, id).await?.map(|o| oidc_state(id, &o, prior)))
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let arn = string_of(prior, "arn");
        if changed(prior, planned, &["thumbprint_list"])
            && !strs_of(planned, "thumbprint_list").is_empty()
        {
            call!(
                cx.iam
                    .update_open_id_connect_provider_thumbprint()
                    .open_id_connect_provider_arn(&arn)
                    .set_thumbprint_list(Some(strs_of(planned, "thumbprint_list"))),
                "UpdateOpenIDConnectProviderThumbprint"
            )?;
        }
        let old = strs_of(prior, "client_id_list");
        let new = strs_of(planned, "client_id_list");
        for c in new.iter().filter(|c| !old.contains(c)) {
            call!(
                cx.iam
                    .add_client_id_to_open_id_connect_provider()
                    .open_id_connect_provider_arn(&arn)
                    .client_id(c),
                "AddClientIDToOpenIDConnectProvider"
            )?;
        }
        for c in old.iter().filter(|c| !new.contains(c)) {
            call!(
                cx.iam
                    .remove_client_id_from_open_id_connect_provider()
                    .open_id_connect_provider_arn(&arn)
                    .client_id(c),
                "RemoveClientIDFromOpenIDConnectProvider"
            )?;
        }
        Ok(())
    }

    delete_by! {
        iam.delete_open_id_connect_provider(open_id_connect_provider_arn = "arn")
            => "DeleteOpenIDConnectProvider"
    }
}

/// A role trusted by GitHub's OIDC provider must pin both the audience (`aud`) and the subject
/// (`sub`, the repository and branch): without them any GitHub repository could assume it.
pub fn github_trust_problems(policy: &str) -> Vec<String> {
    let doc = url_decode(policy);
    let Ok(j) = serde_json::from_str::<serde_json::Value>(&doc) else {
        return Vec::new();
    };
    let statements: Vec<&serde_json::Value> = match j.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.iter().collect(),
        Some(s) => vec![s],
        None => Vec::new(),
    };
    let mut problems = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        let federated = s
            .get("Principal")
            .and_then(|p| p.get("Federated"))
            .map(|f| f.to_string())
            .unwrap_or_default();
        if !federated.contains("token.actions.githubusercontent.com") {
            continue;
        }
        if s.get("Effect").and_then(|e| e.as_str()) == Some("Deny") {
            continue;
        }
        let cond = s
            .get("Condition")
            .map(|c| c.to_string())
            .unwrap_or_default();
        for (key, what) in [
            (
                "token.actions.githubusercontent.com:aud",
                "the audience (aud, usually sts.amazonaws.com)",
            ),
            (
                "token.actions.githubusercontent.com:sub",
                "the subject (sub, e.g. repo:org/repo:ref:refs/heads/main)",
            ),
        ] {
            if !cond.contains(key) {
                problems.push(format!(
                    "statement {i} trusts GitHub's OIDC provider without a condition on {what}"
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::github_trust_problems;

    #[test]
    fn github_trust_needs_aud_and_sub() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity",
          "Principal":{"Federated":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
          "Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},
                       "StringLike":{"token.actions.githubusercontent.com:sub":"repo:o/r:*"}}}]}"#;
        assert!(github_trust_problems(ok).is_empty());
        let no_sub = ok.replace("token.actions.githubusercontent.com:sub", "other");
        let p = github_trust_problems(&no_sub);
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("sub"));
        let none = r#"{"Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}}"#;
        assert_eq!(github_trust_problems(none).len(), 2);
        let service = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
        assert!(github_trust_problems(service).is_empty());
    }
}
