//! CloudWatch Logs: aws_cloudwatch_log_group.

tag_api! { sync fn sync_tags = logs:
untag_resource.resource_arn => "UntagResource", tag_resource.resource_arn => "TagResource",
crate::tags::to_hash_map }

mod log_group;

pub use log_group::LogGroup;
