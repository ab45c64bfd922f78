//! aws_cloudwatch_log_group.

use std::collections::HashMap;

use async_trait::async_trait;
use terrane_core::Value;

use crate::config::Clients;
use crate::error::Result;
use crate::resources::kind::{AwsResource, Listed};
use crate::resources::lifecycle::{already_exists, in_order_by, keys_of, read_back, states_of};
use crate::resources::value::{int_of, num, opt_s, str_of, string_of};
use crate::tags;

pub struct LogGroup;

type LogGroupDesc = aws_sdk_cloudwatchlogs::types::LogGroup;

/// Every log group whose name starts with `prefix` (all of them for ""), every page.
async fn with_prefix(cx: &Clients, prefix: &str) -> Result<Vec<LogGroupDesc>> {
    let req = cx.logs.describe_log_groups();
    let req = if prefix.is_empty() {
        req
    } else {
        req.log_group_name_prefix(prefix)
    };
    Ok(items!(req, "DescribeLogGroups"))
}

async fn tags_of(cx: &Clients, g: &LogGroupDesc) -> Result<HashMap<String, String>> {
    // The group's ARN ends in ":*"; tagging takes it without.
    let arn = g
        .arn()
        .map(|a| a.trim_end_matches(":*").to_string())
        .unwrap_or_default();
    Ok(call!(
        cx.logs.list_tags_for_resource().resource_arn(&arn),
        "ListTagsForResource"
    )?
    .tags
    .unwrap_or_default())
}

async fn describe(
    cx: &Clients,
    name: &str,
) -> Result<Option<(LogGroupDesc, HashMap<String, String>)>> {
    let found = with_prefix(cx, name).await?;
    let Some(g) = found.into_iter().find(|g| g.log_group_name() == Some(name)) else {
        return Ok(None);
    };
    let tags = tags_of(cx, &g).await?;
    Ok(Some((g, tags)))
}

/// The longest prefix all of `names` share.
fn common_prefix(names: &[String]) -> &str {
    let Some(first) = names.first() else {
        return "";
    };
    let mut end = first.len();
    for n in &names[1..] {
        end = first
            .char_indices()
            .zip(n.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(end);
    }
    &first[..end]
}

fn state(
    g: &aws_sdk_cloudwatchlogs::types::LogGroup,
    t: HashMap<String, String>,
    prior: &Value,
) -> Value {
    let tags = t.into_iter().collect();
    let arn = g
        .arn()
        .unwrap_or_default()
        .trim_end_matches(":*")
        .to_string();
    tags::tagged(
        Value::map([
            ("id", opt_s(g.log_group_name())),
            ("name", opt_s(g.log_group_name())),
            ("arn", Value::from(arn)),
            ("retention_in_days", num(g.retention_in_days().unwrap_or(0))),
            ("kms_key_id", opt_s(g.kms_key_id())),
        ]),
        tags,
        prior,
    )
}

#[async_trait]
impl AwsResource for LogGroup {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        for g in with_prefix(cx, "").await? {
            let tags = tags_of(cx, &g).await?;
            out.push(Listed::new(state(&g, tags, &Value::Null)));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let name = string_of(planned, "name");
        let res = call!(
            cx.logs
                .create_log_group()
                .log_group_name(&name)
                .set_kms_key_id(str_of(planned, "kms_key_id").map(String::from))
                .set_tags(Some(
                    tags::for_create_map(planned, token).into_iter().collect(),
                )),
            "CreateLogGroup"
        );
        if let Err(e) = res {
            // A retry after a lost response finds the group we made: adopt it only when it
            // carries our token.
            let ours = already_exists(&e)
                && describe(cx, &name).await?.is_some_and(|(_, t)| {
                    t.get(tags::TOKEN_TAG).map(String::as_str) == Some(token)
                });
            if !ours {
                return Err(e);
            }
        }
        if let Some(days) = int_of(planned, "retention_in_days").filter(|d| *d > 0) {
            call!(
                cx.logs
                    .put_retention_policy()
                    .log_group_name(&name)
                    .retention_in_days(days),
                "PutRetentionPolicy"
            )?;
        }
        read_back(self, cx, &name, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        Ok(describe(cx, id).await?.map(|(g, t)| state(&g, t, prior)))
    }

    fn read_batch(&self) -> Option<usize> {
        Some(50)
    }

    /// One listing by the names' common prefix (an environment's groups share one), every
    /// page, then the tags of each group found.
    async fn read_many(&self, cx: &Clients, priors: &[&Value]) -> Result<Vec<Option<Value>>> {
        let names = keys_of(priors, "id");
        let found = with_prefix(cx, common_prefix(&names)).await?;
        let found = in_order_by(priors, "id", found, |g| g.log_group_name());
        states_of(found, priors, |g, p| async move {
            let tags = tags_of(cx, &g).await?;
            Ok(state(&g, tags, p))
        })
        .await
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let name = string_of(prior, "name");
        if prior.get("retention_in_days") != planned.get("retention_in_days") {
            match int_of(planned, "retention_in_days").filter(|d| *d > 0) {
                Some(days) => done!(
                    cx.logs
                        .put_retention_policy()
                        .log_group_name(&name)
                        .retention_in_days(days),
                    "PutRetentionPolicy"
                )?,
                None => done!(
                    cx.logs.delete_retention_policy().log_group_name(&name),
                    "DeleteRetentionPolicy"
                )?,
            }
        }
        Ok(())
    }

    delete_by! { logs.delete_log_group(log_group_name = "name") => "DeleteLogGroup" }
}

#[cfg(test)]
mod tests {
    use super::common_prefix;

    #[test]
    fn the_common_prefix_of_log_group_names() {
        let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            common_prefix(&n(&["/ecs/dev-a", "/ecs/dev-b", "/ecs/dev-ab"])),
            "/ecs/dev-"
        );
        assert_eq!(common_prefix(&n(&["/ecs/x"])), "/ecs/x");
        assert_eq!(common_prefix(&n(&["a", "b"])), "");
        assert_eq!(common_prefix(&n(&["/é/a", "/é/b"])), "/é/");
        assert_eq!(common_prefix(&n(&["/éa", "/èa"])), "/");
        assert_eq!(common_prefix(&[]), "");
    }
}
