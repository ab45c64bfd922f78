//! aws_iam_policy, aws_iam_role_policy, aws_iam_instance_profile,
//! aws_iam_openid_connect_provider. (aws_iam_role and its policy attachment are in iam_role.rs.)

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_iam::types as t;
use terrane_core::{AttrPath, Attribute, Diagnostic, ResourceSchema, Type, Value};

use super::iam_role::iam_tags;
use super::policy::{keep_equivalent, keep_prior_if_same, url_decode, validate_json, IAM_HINT};
use super::util::{already_exists, changed, missing, opt_s, str_set, strs_of, vanished};
use super::{str_of, AwsResource};
use crate::config::Clients;
use crate::error::{absent_ok, retry_dependency, sdk, AwsError};
use crate::tags;

pub struct IamPolicy;
pub struct IamRolePolicy;
pub struct InstanceProfile;
pub struct OidcProvider;

fn tag_map(ts: &[t::Tag]) -> BTreeMap<String, String> {
    ts.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// A name given, or `name_prefix` (default "terrane-") plus the end of the token.
fn name_or_prefix(planned: &Value, token: &str) -> String {
    match str_of(planned, "name") {
        Some(n) => n.to_string(),
        None => format!(
            "{}{}",
            str_of(planned, "name_prefix").unwrap_or("terrane-"),
            &token[token.len().saturating_sub(12)..]
        ),
    }
}

// ---------------------------------------------------------------- aws_iam_policy

async fn get_policy(cx: &Clients, arn: &str) -> Result<Option<(t::Policy, String)>, AwsError> {
    let Some(p) = absent_ok(
        cx.iam
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| sdk("GetPolicy", e)),
    )?
    .and_then(|o| o.policy) else {
        return Ok(None);
    };
    let version = p.default_version_id().unwrap_or("v1").to_string();
    let doc = cx
        .iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .map_err(|e| sdk("GetPolicyVersion", e))?
        .policy_version
        .and_then(|v| v.document)
        .unwrap_or_default();
    Ok(Some((p, doc)))
}

fn policy_state(p: &t::Policy, doc: &str, prior: &Value) -> Value {
    let (tags, tags_all) = tags::split(tag_map(p.tags()), prior);
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
        ("tags", tags),
        ("tags_all", tags_all),
    ])
}

#[async_trait]
impl AwsResource for IamPolicy {
    fn name(&self) -> &'static str {
        "aws_iam_policy"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("policy_id", Attribute::computed(Type::String))
            .attr(
                "name",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("name_prefix", Attribute::optional(Type::String).force_new())
            .attr(
                "path",
                Attribute::optional(Type::String)
                    .with_default("/")
                    .force_new(),
            )
            .attr("description", Attribute::optional(Type::String).force_new())
            .attr("policy", Attribute::required(Type::String))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_json(config, "policy", "policy document", IAM_HINT)
    }

    fn adjust_plan(
        &self,
        prior: Option<&Value>,
        _c: &Value,
        planned: &mut Value,
        _rr: &mut Vec<AttrPath>,
    ) {
        keep_equivalent(prior, planned, "policy");
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        let name = name_or_prefix(planned, token);
        let res = cx
            .iam
            .create_policy()
            .policy_name(&name)
            .path(str_of(planned, "path").unwrap_or("/"))
            .set_description(str_of(planned, "description").map(String::from))
            .policy_document(str_of(planned, "policy").unwrap_or_default())
            .set_tags(Some(iam_tags(&tags::wanted(planned), Some(token))))
            .send()
            .await
            .map_err(|e| sdk("CreatePolicy", e));
        let arn = match res {
            Ok(o) => o
                .policy
                .and_then(|p| p.arn)
                .ok_or_else(|| missing("CreatePolicy", "policy ARN"))?,
            Err(e) if already_exists(&e) => {
                // A retry after a lost response: adopt only the policy we made.
                let account = cx
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| sdk("GetCallerIdentity", e))?
                    .account
                    .unwrap_or_default();
                let arn = format!(
                    "arn:aws:iam::{account}:policy{}{name}",
                    str_of(planned, "path").unwrap_or("/")
                );
                match get_policy(cx, &arn).await? {
                    Some((p, _)) if tags::has_token(&tag_map(p.tags()), token) => arn,
                    _ => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let (p, doc) = get_policy(cx, &arn)
            .await?
            .ok_or_else(|| vanished("GetPolicy", "policy", &arn))?;
        Ok(policy_state(&p, &doc, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        Ok(get_policy(cx, id)
            .await?
            .map(|(p, doc)| policy_state(&p, &doc, prior)))
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let arn = str_of(prior, "arn").unwrap_or_default().to_string();
        if changed(prior, planned, &["policy"]) {
            // At most five versions: drop the oldest non-default one first.
            let versions = cx
                .iam
                .list_policy_versions()
                .policy_arn(&arn)
                .send()
                .await
                .map_err(|e| sdk("ListPolicyVersions", e))?
                .versions
                .unwrap_or_default();
            if versions.len() >= 5 {
                if let Some(old) = versions
                    .iter()
                    .filter(|v| !v.is_default_version())
                    .min_by_key(|v| v.create_date().map(|d| d.secs()))
                    .and_then(|v| v.version_id())
                {
                    cx.iam
                        .delete_policy_version()
                        .policy_arn(&arn)
                        .version_id(old)
                        .send()
                        .await
                        .map_err(|e| sdk("DeletePolicyVersion", e))?;
                }
            }
            cx.iam
                .create_policy_version()
                .policy_arn(&arn)
                .policy_document(str_of(planned, "policy").unwrap_or_default())
                .set_as_default(true)
                .send()
                .await
                .map_err(|e| sdk("CreatePolicyVersion", e))?;
        }
        let (removed, added) = tags::diff(prior, planned);
        if !removed.is_empty() {
            cx.iam
                .untag_policy()
                .policy_arn(&arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| sdk("UntagPolicy", e))?;
        }
        if !added.is_empty() {
            cx.iam
                .tag_policy()
                .policy_arn(&arn)
                .set_tags(Some(iam_tags(&added, None)))
                .send()
                .await
                .map_err(|e| sdk("TagPolicy", e))?;
        }
        let (p, doc) = get_policy(cx, &arn)
            .await?
            .ok_or_else(|| vanished("GetPolicy", "policy", &arn))?;
        Ok(policy_state(&p, &doc, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let arn = str_of(state, "arn").unwrap_or_default().to_string();
        let versions = match absent_ok(
            cx.iam
                .list_policy_versions()
                .policy_arn(&arn)
                .send()
                .await
                .map_err(|e| sdk("ListPolicyVersions", e)),
        )? {
            Some(o) => o.versions.unwrap_or_default(),
            None => return Ok(()),
        };
        for v in versions.iter().filter(|v| !v.is_default_version()) {
            if let Some(id) = v.version_id() {
                cx.iam
                    .delete_policy_version()
                    .policy_arn(&arn)
                    .version_id(id)
                    .send()
                    .await
                    .map_err(|e| sdk("DeletePolicyVersion", e))?;
            }
        }
        // DeleteConflict while still attached somewhere.
        retry_dependency(Duration::from_secs(300), || async {
            cx.iam
                .delete_policy()
                .policy_arn(&arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("DeletePolicy", e))
        })
        .await
    }
}

// ---------------------------------------------------------------- aws_iam_role_policy

#[async_trait]
impl AwsResource for IamRolePolicy {
    fn name(&self) -> &'static str {
        "aws_iam_role_policy"
    }

    fn taggable(&self) -> bool {
        false
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("role", Attribute::required(Type::String).force_new())
            .attr("policy", Attribute::required(Type::String))
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_json(config, "policy", "policy document", IAM_HINT)
    }

    fn adjust_plan(
        &self,
        prior: Option<&Value>,
        _c: &Value,
        planned: &mut Value,
        _rr: &mut Vec<AttrPath>,
    ) {
        keep_equivalent(prior, planned, "policy");
    }

    async fn create(&self, cx: &Clients, planned: &Value, _token: &str) -> Result<Value, AwsError> {
        // PutRolePolicy sets the role's one policy of that name: a retry is harmless.
        self.put(cx, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        // Id: `role:name`.
        let Some((role, name)) = id.split_once(':') else {
            return Ok(None);
        };
        let Some(out) = absent_ok(
            cx.iam
                .get_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| sdk("GetRolePolicy", e)),
        )?
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

    async fn update(
        &self,
        cx: &Clients,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        self.put(cx, planned).await
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        match cx
            .iam
            .delete_role_policy()
            .role_name(str_of(state, "role").unwrap_or_default())
            .policy_name(str_of(state, "name").unwrap_or_default())
            .send()
            .await
            .map_err(|e| sdk("DeleteRolePolicy", e))
        {
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }
}

impl IamRolePolicy {
    async fn put(&self, cx: &Clients, planned: &Value) -> Result<Value, AwsError> {
        let role = str_of(planned, "role").unwrap_or_default();
        let name = str_of(planned, "name").unwrap_or_default();
        cx.iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(str_of(planned, "policy").unwrap_or_default())
            .send()
            .await
            .map_err(|e| sdk("PutRolePolicy", e))?;
        let mut v = planned.clone();
        super::put(&mut v, "id", Value::from(format!("{role}:{name}")));
        Ok(v)
    }
}

// ---------------------------------------------------------------- aws_iam_instance_profile

async fn get_profile(cx: &Clients, name: &str) -> Result<Option<t::InstanceProfile>, AwsError> {
    Ok(absent_ok(
        cx.iam
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map_err(|e| sdk("GetInstanceProfile", e)),
    )?
    .and_then(|o| o.instance_profile))
}

fn profile_state(p: &t::InstanceProfile, prior: &Value) -> Value {
    let (tags, tags_all) = tags::split(tag_map(p.tags()), prior);
    Value::map([
        ("id", Value::from(p.instance_profile_name())),
        ("name", Value::from(p.instance_profile_name())),
        (
            "name_prefix",
            prior.get("name_prefix").cloned().unwrap_or(Value::Null),
        ),
        ("arn", Value::from(p.arn())),
        ("unique_id", Value::from(p.instance_profile_id())),
        ("path", Value::from(p.path())),
        ("role", opt_s(p.roles().first().map(|r| r.role_name()))),
        ("tags", tags),
        ("tags_all", tags_all),
    ])
}

#[async_trait]
impl AwsResource for InstanceProfile {
    fn name(&self) -> &'static str {
        "aws_iam_instance_profile"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("unique_id", Attribute::computed(Type::String))
            .attr(
                "name",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("name_prefix", Attribute::optional(Type::String).force_new())
            .attr(
                "path",
                Attribute::optional(Type::String)
                    .with_default("/")
                    .force_new(),
            )
            .attr("role", Attribute::optional(Type::String))
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        let name = name_or_prefix(planned, token);
        let res = cx
            .iam
            .create_instance_profile()
            .instance_profile_name(&name)
            .path(str_of(planned, "path").unwrap_or("/"))
            .set_tags(Some(iam_tags(&tags::wanted(planned), Some(token))))
            .send()
            .await
            .map_err(|e| sdk("CreateInstanceProfile", e));
        if let Err(e) = res {
            let ours = already_exists(&e)
                && get_profile(cx, &name)
                    .await?
                    .is_some_and(|p| tags::has_token(&tag_map(p.tags()), token));
            if !ours {
                return Err(e);
            }
        }
        if let Some(role) = str_of(planned, "role") {
            let current = get_profile(cx, &name).await?;
            if !current.is_some_and(|p| p.roles().iter().any(|r| r.role_name() == role)) {
                cx.iam
                    .add_role_to_instance_profile()
                    .instance_profile_name(&name)
                    .role_name(role)
                    .send()
                    .await
                    .map_err(|e| sdk("AddRoleToInstanceProfile", e))?;
            }
        }
        let p = get_profile(cx, &name)
            .await?
            .ok_or_else(|| vanished("GetInstanceProfile", "instance profile", &name))?;
        Ok(profile_state(&p, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        Ok(get_profile(cx, id).await?.map(|p| profile_state(&p, prior)))
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let name = str_of(prior, "name").unwrap_or_default().to_string();
        if changed(prior, planned, &["role"]) {
            if let Some(old) = str_of(prior, "role") {
                cx.iam
                    .remove_role_from_instance_profile()
                    .instance_profile_name(&name)
                    .role_name(old)
                    .send()
                    .await
                    .map_err(|e| sdk("RemoveRoleFromInstanceProfile", e))?;
            }
            if let Some(new) = str_of(planned, "role") {
                cx.iam
                    .add_role_to_instance_profile()
                    .instance_profile_name(&name)
                    .role_name(new)
                    .send()
                    .await
                    .map_err(|e| sdk("AddRoleToInstanceProfile", e))?;
            }
        }
        let (removed, added) = tags::diff(prior, planned);
        if !removed.is_empty() {
            cx.iam
                .untag_instance_profile()
                .instance_profile_name(&name)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| sdk("UntagInstanceProfile", e))?;
        }
        if !added.is_empty() {
            cx.iam
                .tag_instance_profile()
                .instance_profile_name(&name)
                .set_tags(Some(iam_tags(&added, None)))
                .send()
                .await
                .map_err(|e| sdk("TagInstanceProfile", e))?;
        }
        let p = get_profile(cx, &name)
            .await?
            .ok_or_else(|| vanished("GetInstanceProfile", "instance profile", &name))?;
        Ok(profile_state(&p, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let name = str_of(state, "name").unwrap_or_default().to_string();
        let Some(p) = get_profile(cx, &name).await? else {
            return Ok(());
        };
        for r in p.roles() {
            cx.iam
                .remove_role_from_instance_profile()
                .instance_profile_name(&name)
                .role_name(r.role_name())
                .send()
                .await
                .map_err(|e| sdk("RemoveRoleFromInstanceProfile", e))?;
        }
        retry_dependency(Duration::from_secs(300), || async {
            cx.iam
                .delete_instance_profile()
                .instance_profile_name(&name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("DeleteInstanceProfile", e))
        })
        .await
    }
}

// ---------------------------------------------------------------- aws_iam_openid_connect_provider

async fn get_oidc(
    cx: &Clients,
    arn: &str,
) -> Result<
    Option<aws_sdk_iam::operation::get_open_id_connect_provider::GetOpenIdConnectProviderOutput>,
    AwsError,
> {
    absent_ok(
        cx.iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .map_err(|e| sdk("GetOpenIDConnectProvider", e)),
    )
}

fn oidc_state(
    arn: &str,
    o: &aws_sdk_iam::operation::get_open_id_connect_provider::GetOpenIdConnectProviderOutput,
    prior: &Value,
) -> Value {
    let (tags, tags_all) = tags::split(tag_map(o.tags()), prior);
    // AWS returns the URL without its scheme; keep the user's spelling.
    let url = o.url().unwrap_or_default();
    let url = match str_of(prior, "url") {
        Some(p) if p.trim_start_matches("https://") == url.trim_start_matches("https://") => {
            p.to_string()
        }
        _ => format!("https://{}", url.trim_start_matches("https://")),
    };
    Value::map([
        ("id", Value::from(arn)),
        ("arn", Value::from(arn)),
        ("url", Value::from(url)),
        ("client_id_list", str_set(o.client_id_list())),
        ("thumbprint_list", str_set(o.thumbprint_list())),
        ("tags", tags),
        ("tags_all", tags_all),
    ])
}

#[async_trait]
impl AwsResource for OidcProvider {
    fn name(&self) -> &'static str {
        "aws_iam_openid_connect_provider"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("url", Attribute::required(Type::String).force_new())
            .attr(
                "client_id_list",
                Attribute::required(Type::set(Type::String)),
            )
            .attr(
                "thumbprint_list",
                Attribute::optional_computed(Type::set(Type::String)),
            )
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

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        let url = str_of(planned, "url").unwrap_or_default();
        let res = cx
            .iam
            .create_open_id_connect_provider()
            .url(url)
            .set_client_id_list(Some(strs_of(planned, "client_id_list")))
            .set_thumbprint_list(
                Some(strs_of(planned, "thumbprint_list")).filter(|v| !v.is_empty()),
            )
            .set_tags(Some(iam_tags(&tags::wanted(planned), Some(token))))
            .send()
            .await
            .map_err(|e| sdk("CreateOpenIDConnectProvider", e));
        let arn = match res {
            Ok(o) => o
                .open_id_connect_provider_arn
                .ok_or_else(|| missing("CreateOpenIDConnectProvider", "provider ARN"))?,
            Err(e) if already_exists(&e) => {
                // One provider per URL per account: adopt it only if we made it.
                let list = cx
                    .iam
                    .list_open_id_connect_providers()
                    .send()
                    .await
                    .map_err(|e| sdk("ListOpenIDConnectProviders", e))?;
                let host = url.trim_start_matches("https://");
                let mut found = None;
                for p in list.open_id_connect_provider_list() {
                    let Some(arn) = p.arn() else { continue };
                    if !arn.ends_with(&format!("oidc-provider/{host}")) {
                        continue;
                    }
                    if let Some(o) = get_oidc(cx, arn).await? {
                        if tags::has_token(&tag_map(o.tags()), token) {
                            found = Some(arn.to_string());
                        }
                    }
                }
                found.ok_or(e)?
            }
            Err(e) => return Err(e),
        };
        let o = get_oidc(cx, &arn)
            .await?
            .ok_or_else(|| vanished("GetOpenIDConnectProvider", "OIDC provider", &arn))?;
        Ok(oidc_state(&arn, &o, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        Ok(get_oidc(cx, id).await?.map(|o| oidc_state(id, &o, prior)))
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let arn = str_of(prior, "arn").unwrap_or_default().to_string();
        if changed(prior, planned, &["thumbprint_list"])
            && !strs_of(planned, "thumbprint_list").is_empty()
        {
            cx.iam
                .update_open_id_connect_provider_thumbprint()
                .open_id_connect_provider_arn(&arn)
                .set_thumbprint_list(Some(strs_of(planned, "thumbprint_list")))
                .send()
                .await
                .map_err(|e| sdk("UpdateOpenIDConnectProviderThumbprint", e))?;
        }
        let old = strs_of(prior, "client_id_list");
        let new = strs_of(planned, "client_id_list");
        for c in new.iter().filter(|c| !old.contains(c)) {
            cx.iam
                .add_client_id_to_open_id_connect_provider()
                .open_id_connect_provider_arn(&arn)
                .client_id(c)
                .send()
                .await
                .map_err(|e| sdk("AddClientIDToOpenIDConnectProvider", e))?;
        }
        for c in old.iter().filter(|c| !new.contains(c)) {
            cx.iam
                .remove_client_id_from_open_id_connect_provider()
                .open_id_connect_provider_arn(&arn)
                .client_id(c)
                .send()
                .await
                .map_err(|e| sdk("RemoveClientIDFromOpenIDConnectProvider", e))?;
        }
        let (removed, added) = tags::diff(prior, planned);
        if !removed.is_empty() {
            cx.iam
                .untag_open_id_connect_provider()
                .open_id_connect_provider_arn(&arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| sdk("UntagOpenIDConnectProvider", e))?;
        }
        if !added.is_empty() {
            cx.iam
                .tag_open_id_connect_provider()
                .open_id_connect_provider_arn(&arn)
                .set_tags(Some(iam_tags(&added, None)))
                .send()
                .await
                .map_err(|e| sdk("TagOpenIDConnectProvider", e))?;
        }
        let o = get_oidc(cx, &arn)
            .await?
            .ok_or_else(|| vanished("GetOpenIDConnectProvider", "OIDC provider", &arn))?;
        Ok(oidc_state(&arn, &o, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        match cx
            .iam
            .delete_open_id_connect_provider()
            .open_id_connect_provider_arn(str_of(state, "arn").unwrap_or_default())
            .send()
            .await
            .map_err(|e| sdk("DeleteOpenIDConnectProvider", e))
        {
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
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
