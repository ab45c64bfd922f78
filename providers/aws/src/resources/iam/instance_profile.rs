//! aws_iam_instance_profile.

use super::*;

async fn get_profile(cx: &Clients, name: &str) -> Result<Option<t::InstanceProfile>> {
    found!(
        cx.iam.get_instance_profile().instance_profile_name(name),
        "GetInstanceProfile",
        instance_profile
    )
}

fn profile_state(p: &t::InstanceProfile, prior: &Value) -> Value {
    let tags = tags::from_sdk(p.tags());
    tags::tagged(
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
        ]),
        tags,
        prior,
    )
}

#[async_trait]
impl AwsResource for InstanceProfile {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let profiles: Vec<t::InstanceProfile> =
            items!(cx.iam.list_instance_profiles(), "ListInstanceProfiles");
        read_each(
            self,
            cx,
            profiles.into_iter().map(|p| p.instance_profile_name),
        )
        .await
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let name = name_or_prefix(planned, "name", token_tail(token, 12));
        let res = call!(
            cx.iam
                .create_instance_profile()
                .instance_profile_name(&name)
                .path(str_of(planned, "path").unwrap_or("/"))
                .set_tags(Some(tags::for_create(planned, token))),
            "CreateInstanceProfile"
        );
        if let Err(e) = res {
            let ours = already_exists(&e)
                && get_profile(cx, &name)
                    .await?
                    .is_some_and(|p| tags::has_token(&tags::from_sdk(p.tags()), token));
            if !ours {
                return Err(e);
            }
        }
        if let Some(role) = str_of(planned, "role") {
            let current = get_profile(cx, &name).await?;
            if !current.is_some_and(|p| p.roles().iter().any(|r| r.role_name() == role)) {
                call!(
                    cx.iam
                        .add_role_to_instance_profile()
                        .instance_profile_name(&name)
                        .role_name(role),
                    "AddRoleToInstanceProfile"
                )?;
            }
        }
        read_back(self, cx, &name, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        Ok(get_profile(cx, id).await?.map(|p| profile_state(&p, prior)))
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let name = string_of(prior, "name");
        if changed(prior, planned, &["role"]) {
            if let Some(old) = str_of(prior, "role") {
                call!(
                    cx.iam
                        .remove_role_from_instance_profile()
                        .instance_profile_name(&name)
                        .role_name(old),
                    "RemoveRoleFromInstanceProfile"
                )?;
            }
            if let Some(new) = str_of(planned, "role") {
                call!(
                    cx.iam
                        .add_role_to_instance_profile()
                        .instance_profile_name(&name)
                        .role_name(new),
                    "AddRoleToInstanceProfile"
                )?;
            }
        }
        Ok(())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let name = string_of(state, "name");
        let Some(p) = get_profile(cx, &name).await? else {
            return Ok(());
        };
        for r in p.roles() {
            call!(
                cx.iam
                    .remove_role_from_instance_profile()
                    .instance_profile_name(&name)
                    .role_name(r.role_name()),
                "RemoveRoleFromInstanceProfile"
            )?;
        }
        delete_retrying!(
            Duration::from_secs(300),
            cx.iam
                .delete_instance_profile()
                .instance_profile_name(&name),
            "DeleteInstanceProfile"
        )
    }
}
