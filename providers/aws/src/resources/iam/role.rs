//! aws_iam_role.

use super::*;

const DELETE_TIMEOUT: Duration = Duration::from_secs(300);

/// From this many roles a refresh reads the account's listings instead of one GetRole each.
const LISTED_FROM: usize = 3;

fn role_state(r: &aws_sdk_iam::types::Role, prior: &Value) -> Value {
    let read_tags: BTreeMap<String, String> = r
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    let tags = read_tags;
    let policy = r
        .assume_role_policy_document()
        .map(|d| keep_prior_if_same(d, str_of(prior, "assume_role_policy")))
        .unwrap_or_default();
    tags::tagged(
        Value::map([
            ("id", Value::from(r.role_name())),
            ("name", Value::from(r.role_name())),
            ("arn", Value::from(r.arn())),
            ("unique_id", Value::from(r.role_id())),
            ("path", Value::from(r.path())),
            ("assume_role_policy", Value::from(policy)),
            (
                "description",
                r.description().map(Value::from).unwrap_or(Value::Null),
            ),
            (
                "max_session_duration",
                Value::Number(r.max_session_duration().unwrap_or(3600) as f64),
            ),
            (
                "permissions_boundary",
                r.permissions_boundary()
                    .and_then(|p| p.permissions_boundary_arn())
                    .map(Value::from)
                    .unwrap_or(Value::Null),
            ),
            (
                "force_detach_policies",
                prior
                    .get("force_detach_policies")
                    .cloned()
                    .unwrap_or(Value::Bool(false)),
            ),
            ("create_date", Value::from(r.create_date().to_string())),
        ]),
        tags,
        prior,
    )
}

async fn get_role(cx: &Clients, name: &str) -> Result<Option<aws_sdk_iam::types::Role>> {
    found!(cx.iam.get_role().role_name(name), "GetRole", role)
}

#[async_trait]
impl AwsResource for IamRole {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        // ListRoles leaves tags out: read each.
        let roles: Vec<t::Role> = items!(cx.iam.list_roles(), "ListRoles");
        read_each(self, cx, roles.into_iter().map(|r| r.role_name)).await
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        match str_of(config, "assume_role_policy") {
            Some(p) if serde_json::from_str::<serde_json::Value>(p).is_err() => {
                validate_json(config, "assume_role_policy", "policy document", IAM_HINT)
            }
            Some(p) => github_trust_problems(p)
                .into_iter()
                .map(|m| {
                    Diagnostic::error(
                        "Unsafe assume_role_policy",
                        format!("{m}: without it any GitHub repository could assume this role."),
                    )
                    .for_attribute("assume_role_policy")
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn adjust_plan(&self, Planning { prior, planned, .. }: Planning<'_>) {
        keep_equivalent(prior, planned, "assume_role_policy");
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let name = name_or_prefix(planned, "name", token_tail(token, 12));
        let mut req = cx
            .iam
            .create_role()
            .role_name(&name)
            .path(str_of(planned, "path").unwrap_or("/"))
            .assume_role_policy_document(text_of(planned, "assume_role_policy"))
            .set_tags(Some(tags::for_create(planned, token)));
        if let Some(d) = str_of(planned, "description") {
            req = req.description(d);
        }
        if let Some(n) = planned.get("max_session_duration").and_then(Value::as_f64) {
            req = req.max_session_duration(n as i32);
        }
        if let Some(b) = str_of(planned, "permissions_boundary") {
            req = req.permissions_boundary(b);
        }
        let role = match call!(req, "CreateRole") {
            Ok(out) => out.role.ok_or_else(|| {
                AwsError::new("CreateRole", "InvalidResponse", "no role in the response")
            })?,
            // The SDK retried a create whose answer was lost: the role is ours if it carries
            // our token, and someone else's otherwise.
            Err(e) if e.is("EntityAlreadyExists") => match get_role(cx, &name).await? {
                Some(r)
                    if r.tags()
                        .iter()
                        .any(|t| t.key() == tags::TOKEN_TAG && t.value() == token) =>
                {
                    r
                }
                _ => return Err(e),
            },
            Err(e) => return Err(e),
        };
        Ok(role_state(&role, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        Ok(get_role(cx, id).await?.map(|r| role_state(&r, prior)))
    }

    fn read_batch(&self) -> Option<usize> {
        Some(1000)
    }

    /// IAM reads one role per GetRole. A batch of [`LISTED_FROM`] or more reads the account's
    /// roles instead, in two listings of 1,000 per page: ListRoles (all but tags and the
    /// permissions boundary) and GetAccountAuthorizationDetails (those two).
    async fn read_many(&self, cx: &Clients, priors: &[&Value]) -> Result<Vec<Option<Value>>> {
        if priors.len() < LISTED_FROM {
            return crate::resources::lifecycle::read_one_by_one(self, cx, priors).await;
        }
        let mut roles: Vec<t::Role> = items!(cx.iam.list_roles().max_items(1000), "ListRoles");
        let details: std::collections::HashMap<String, t::RoleDetail> = pages!(
            cx.iam
                .get_account_authorization_details()
                .filter(t::EntityType::Role)
                .max_items(1000),
            "GetAccountAuthorizationDetails",
            role_detail_list
        )
        .filter_map(|d| Some((d.role_name.clone()?, d)))
        .collect();
        for r in &mut roles {
            if let Some(d) = details.get(&r.role_name) {
                r.tags = d.tags.clone();
                r.permissions_boundary = d.permissions_boundary.clone();
            }
        }
        Ok(in_order_by(priors, "id", roles, |r| Some(r.role_name()))
            .into_iter()
            .zip(priors)
            .map(|(r, p)| r.map(|r| role_state(&r, p)))
            .collect())
    }

    async fn update(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<Value> {
        let name = string_of(prior, "id");
        let changed = |k: &str| prior.get(k) != planned.get(k);
        if changed("assume_role_policy") {
            call!(
                cx.iam
                    .update_assume_role_policy()
                    .role_name(&name)
                    .policy_document(text_of(planned, "assume_role_policy")),
                "UpdateAssumeRolePolicy"
            )?;
        }
        if changed("description") || changed("max_session_duration") {
            call!(
                cx.iam
                    .update_role()
                    .role_name(&name)
                    .description(text_of(planned, "description"))
                    .set_max_session_duration(
                        planned
                            .get("max_session_duration")
                            .and_then(Value::as_f64)
                            .map(|n| n as i32),
                    ),
                "UpdateRole"
            )?;
        }
        if changed("permissions_boundary") {
            match str_of(planned, "permissions_boundary") {
                Some(b) => done!(
                    cx.iam
                        .put_role_permissions_boundary()
                        .role_name(&name)
                        .permissions_boundary(b),
                    "PutRolePermissionsBoundary"
                )?,
                None => done!(
                    cx.iam.delete_role_permissions_boundary().role_name(&name),
                    "DeleteRolePermissionsBoundary"
                )?,
            }
        }
        super::sync_role_tags(cx, &name, prior, planned).await?;
        let r = get_role(cx, &name).await?.ok_or_else(|| {
            AwsError::new(
                "GetRole",
                "NoSuchEntity",
                format!("role {name} does not exist"),
            )
        })?;
        Ok(role_state(&r, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let name = string_of(state, "id");
        if state.get("force_detach_policies").and_then(Value::as_bool) == Some(true) {
            let attached = call!(
                cx.iam.list_attached_role_policies().role_name(&name),
                "ListAttachedRolePolicies"
            )?;
            for p in attached.attached_policies() {
                if let Some(arn) = p.policy_arn() {
                    call!(
                        cx.iam.detach_role_policy().role_name(&name).policy_arn(arn),
                        "DetachRolePolicy"
                    )?;
                }
            }
            let inline = call!(
                cx.iam.list_role_policies().role_name(&name),
                "ListRolePolicies"
            )?;
            for p in inline.policy_names() {
                call!(
                    cx.iam.delete_role_policy().role_name(&name).policy_name(p),
                    "DeleteRolePolicy"
                )?;
            }
        }
        delete_retrying!(
            DELETE_TIMEOUT,
            cx.iam.delete_role().role_name(&name),
            "DeleteRole"
        )
    }

    async fn find_by_token(&self, cx: &Clients, token: &str, planned: &Value) -> Found {
        let name = name_or_prefix(planned, "name", token_tail(token, 12));
        let Some(r) = get_role(cx, &name).await? else {
            return Ok(None);
        };
        let ours = r
            .tags()
            .iter()
            .any(|t| t.key() == tags::TOKEN_TAG && t.value() == token);
        Ok(ours.then(|| role_state(&r, planned)))
    }
}
