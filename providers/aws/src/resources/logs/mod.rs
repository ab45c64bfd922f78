//! CloudWatch Logs: aws_cloudwatch_log_group.

tag_api! { by arn: sync fn sync_tags = logs, crate::tags::to_hash_map }

mod log_group;

pub use log_group::LogGroup;
