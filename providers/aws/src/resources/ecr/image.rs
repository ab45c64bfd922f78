//! data "aws_ecr_image": one image of a repository, by tag or digest, or the most recent.

use super::*;
use crate::error::Result;

pub struct Image;

#[async_trait]
impl crate::resources::kind::AwsData for Image {
    async fn read(&self, cx: &Clients, config: &Value) -> Result<Value> {
        let repo = text_of(config, "repository_name");
        let tag = str_of(config, "image_tag");
        let digest = str_of(config, "image_digest");
        let most_recent = bool_of(config, "most_recent") == Some(true);
        let given = [tag.is_some(), digest.is_some(), most_recent]
            .iter()
            .filter(|x| **x)
            .count();
        if given != 1 {
            return Err(AwsError::new(
                "DescribeImages",
                "InvalidArgument",
                "give exactly one of image_tag, image_digest and most_recent = true",
            ));
        }
        let mut req = cx
            .ecr
            .describe_images()
            .repository_name(repo)
            .set_registry_id(str_of(config, "registry_id").map(String::from));
        if tag.is_some() || digest.is_some() {
            req = req.image_ids(
                t::ImageIdentifier::builder()
                    .set_image_tag(tag.map(String::from))
                    .set_image_digest(digest.map(String::from))
                    .build(),
            );
        }
        let out = call!(req, "DescribeImages")?;
        let found = out
            .image_details()
            .iter()
            .max_by_key(|d| d.image_pushed_at().map(|t| t.secs()).unwrap_or(0))
            .ok_or_else(|| {
                AwsError::new(
                    "DescribeImages",
                    "ImageNotFoundException",
                    format!("repository {repo} has no such image"),
                )
            })?;
        let d = found.image_digest().unwrap_or_default();
        let uri = call!(
            cx.ecr.describe_repositories().repository_names(repo),
            "DescribeRepositories"
        )?
        .repositories()
        .first()
        .and_then(|r| r.repository_uri())
        .map(|u| format!("{u}@{d}"))
        .unwrap_or_default();
        Ok(Value::map([
            ("id", Value::from(d)),
            ("repository_name", Value::from(repo)),
            ("registry_id", opt_s(found.registry_id())),
            ("image_digest", Value::from(d)),
            ("image_tag", tag.map(Value::from).unwrap_or(Value::Null)),
            (
                "most_recent",
                config.get("most_recent").cloned().unwrap_or(Value::Null),
            ),
            (
                "image_pushed_at",
                found
                    .image_pushed_at()
                    .map(|t| Value::from(t.secs()))
                    .unwrap_or(Value::Null),
            ),
            (
                "image_size_in_bytes",
                found
                    .image_size_in_bytes()
                    .map(Value::from)
                    .unwrap_or(Value::Null),
            ),
            (
                "image_tags",
                Value::List(
                    found
                        .image_tags()
                        .iter()
                        .map(|s| Value::from(s.as_str()))
                        .collect(),
                ),
            ),
            ("image_uri", Value::from(uri)),
        ]))
    }
}
