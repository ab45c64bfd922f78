//! aws_ecr_repository.

use super::*;
use crate::error::Result;

async fn describe(cx: &Clients, name: &str) -> Result<Option<t::Repository>> {
    found!(
        cx.ecr.describe_repositories().repository_names(name),
        "DescribeRepositories",
        repositories[0]
    )
}

/// DescribeRepositories answers for at most this many names.
const DESCRIBE_BATCH: usize = 100;

async fn repo_state(cx: &Clients, r: &t::Repository, prior: &Value) -> Result<Value> {
    let arn = r.repository_arn().unwrap_or_default();
    let tags = read_tags(cx, arn).await?;
    Ok(tags::tagged(
        Value::map([
            ("id", opt_s(r.repository_name())),
            ("name", opt_s(r.repository_name())),
            ("arn", Value::from(arn)),
            ("registry_id", opt_s(r.registry_id())),
            ("repository_url", opt_s(r.repository_uri())),
            (
                "image_tag_mutability",
                opt_s(r.image_tag_mutability().map(|m| m.as_str())),
            ),
            (
                "image_scanning_configuration",
                Value::List(vec![Value::map([(
                    "scan_on_push",
                    Value::Bool(
                        r.image_scanning_configuration()
                            .map(|c| c.scan_on_push())
                            .unwrap_or(false),
                    ),
                )])]),
            ),
            (
                "image_tag_mutability_exclusion_filter",
                Value::List(
                    r.image_tag_mutability_exclusion_filters()
                        .iter()
                        .map(|f| {
                            Value::map([
                                ("filter", Value::from(f.filter())),
                                ("filter_type", Value::from(f.filter_type().as_str())),
                            ])
                        })
                        .collect(),
                ),
            ),
            (
                "force_delete",
                prior
                    .get("force_delete")
                    .cloned()
                    .unwrap_or(Value::Bool(false)),
            ),
        ]),
        tags,
        prior,
    ))
}

/// Tags that stay mutable in an IMMUTABLE_WITH_EXCLUSION repository (`latest`), and the other
/// way round.
fn exclusion_filters(planned: &Value) -> Option<Vec<t::ImageTagMutabilityExclusionFilter>> {
    let filters: Vec<_> =
        crate::resources::value::blocks(planned, "image_tag_mutability_exclusion_filter")
            .into_iter()
            .filter_map(|f| {
                t::ImageTagMutabilityExclusionFilter::builder()
                    .filter(str_of(f, "filter")?)
                    .filter_type(t::ImageTagMutabilityExclusionFilterType::from(str_of(
                        f,
                        "filter_type",
                    )?))
                    .build()
                    .ok()
            })
            .collect();
    (!filters.is_empty()).then_some(filters)
}

fn scan_on_push(planned: &Value) -> bool {
    block(planned, "image_scanning_configuration")
        .and_then(|c| bool_of(c, "scan_on_push"))
        .unwrap_or(false)
}

#[async_trait]
impl AwsResource for Repository {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let repos: Vec<t::Repository> =
            items!(cx.ecr.describe_repositories(), "DescribeRepositories");
        let mut out = Vec::new();
        for r in repos {
            out.push(Listed::new(repo_state(cx, &r, &Value::Null).await?));
        }
        Ok(out)
    }

    fn adjust_plan(&self, Planning { planned, .. }: Planning<'_>) {
        // An absent image_scanning_configuration is AWS's default (scan_on_push = false).
        if planned
            .get("image_scanning_configuration")
            .and_then(Value::as_list)
            .is_some_and(|l| l.is_empty())
            || planned
                .get("image_scanning_configuration")
                .is_none_or(Value::is_null)
        {
            crate::resources::value::put(
                planned,
                "image_scanning_configuration",
                Value::List(vec![Value::map([("scan_on_push", Value::Bool(false))])]),
            );
        }
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let name = string_of(planned, "name");
        let res = call!(
            cx.ecr
                .create_repository()
                .repository_name(&name)
                .image_tag_mutability(t::ImageTagMutability::from(
                    str_of(planned, "image_tag_mutability").unwrap_or("MUTABLE"),
                ))
                .set_image_tag_mutability_exclusion_filters(exclusion_filters(planned))
                .image_scanning_configuration(
                    t::ImageScanningConfiguration::builder()
                        .scan_on_push(scan_on_push(planned))
                        .build(),
                )
                .set_tags(Some(tags::for_create(planned, token))),
            "CreateRepository"
        );
        let r = match res {
            Ok(o) => o
                .repository
                .ok_or_else(|| missing("CreateRepository", "repository"))?,
            Err(e) if already_exists(&e) => {
                // A retry after a lost response: adopt only the repository we made.
                let r = describe(cx, &name).await?.ok_or(e.clone())?;
                if !tags::has_token(
                    &read_tags(cx, r.repository_arn().unwrap_or_default()).await?,
                    token,
                ) {
                    return Err(e);
                }
                r
            }
            Err(e) => return Err(e),
        };
        repo_state(cx, &r, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        read_found!(describe(cx, id), |r| repo_state(cx, &r, prior))
    }

    fn read_batch(&self) -> Option<usize> {
        Some(DESCRIBE_BATCH)
    }

    async fn read_many(&self, cx: &Clients, priors: &[&Value]) -> Result<Vec<Option<Value>>> {
        let found = many_or_each(
            priors,
            "id",
            |names| async move {
                cx.ecr
                    .describe_repositories()
                    .set_repository_names(Some(names))
                    .send()
                    .await
                    .map(|o| o.repositories.unwrap_or_default())
                    .or_sdk("DescribeRepositories")
            },
            |name| async move { describe(cx, &name).await },
            |r| r.repository_name(),
        )
        .await?;
        states_of(
            found,
            priors,
            |r, p| async move { repo_state(cx, &r, p).await },
        )
        .await
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let name = string_of(prior, "name");
        if changed(
            prior,
            planned,
            &[
                "image_tag_mutability",
                "image_tag_mutability_exclusion_filter",
            ],
        ) {
            call!(
                cx.ecr
                    .put_image_tag_mutability()
                    .repository_name(&name)
                    .image_tag_mutability(t::ImageTagMutability::from(
                        str_of(planned, "image_tag_mutability").unwrap_or("MUTABLE"),
                    ))
                    .set_image_tag_mutability_exclusion_filters(exclusion_filters(planned)),
                "PutImageTagMutability"
            )?;
        }
        if changed(prior, planned, &["image_scanning_configuration"]) {
            call!(
                cx.ecr
                    .put_image_scanning_configuration()
                    .repository_name(&name)
                    .image_scanning_configuration(
                        t::ImageScanningConfiguration::builder()
                            .scan_on_push(scan_on_push(planned))
                            .build(),
                    ),
                "PutImageScanningConfiguration"
            )?;
        }
        Ok(())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        match call!(
            cx.ecr
                .delete_repository()
                .repository_name(text_of(state, "name"))
                .force(bool_of(state, "force_delete").unwrap_or(false)),
            "DeleteRepository"
        ) {
            Err(e) if e.is("RepositoryNotEmptyException") => Err(AwsError::new(
                "DeleteRepository",
                e.code.clone(),
                format!(
                    "{} (set force_delete = true to delete the images with it)",
                    e.message
                ),
            )),
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }
}

// ---------------------------------------------------------------- aws_ecr_lifecycle_policy
