//! aws_vpc (the data source).

use super::*;
use crate::error::Result;

pub struct Vpc;

#[async_trait]
impl AwsData for Vpc {
    async fn read(&self, cx: &Clients, config: &Value) -> Result<Value> {
        use aws_sdk_ec2::types::Filter;
        let mut req = cx.ec2.describe_vpcs();
        if let Some(id) = str_of(config, "id") {
            req = req.vpc_ids(id);
        }
        let f = |name: &str, v: &str| Filter::builder().name(name).values(v).build();
        if let Some(c) = str_of(config, "cidr_block") {
            req = req.filters(f("cidr", c));
        }
        if let Some(d) = config.get("default").and_then(Value::as_bool) {
            req = req.filters(f("is-default", &d.to_string()));
        }
        if let Some(s) = str_of(config, "state") {
            req = req.filters(f("state", s));
        }
        for (k, v) in str_map(config, "tags") {
            req = req.filters(f(&format!("tag:{k}"), &v));
        }
        for b in blocks(config, "filter") {
            req = req.filters(
                Filter::builder()
                    .name(text_of(b, "name"))
                    .set_values(Some(strs_of(b, "values")))
                    .build(),
            );
        }
        let out = call!(req, "DescribeVpcs")?;
        let vpcs = out.vpcs();
        let vpc = match vpcs {
            [one] => one,
            [] => {
                return Err(AwsError::new(
                    "DescribeVpcs",
                    "NoMatchingVpc",
                    "no VPC matched the given arguments",
                ))
            }
            many => {
                return Err(AwsError::new(
                    "DescribeVpcs",
                    "MultipleMatchingVpcs",
                    format!(
                        "{} VPCs matched the given arguments; narrow them with id, tags or filter",
                        many.len()
                    ),
                ))
            }
        };
        let id = vpc.vpc_id().unwrap_or_default();
        let owner = vpc.owner_id().unwrap_or_default();
        let read_tags = tags::from_sdk(vpc.tags());
        let mut v = config.clone();
        for (k, x) in [
            ("id", Value::from(id)),
            (
                "arn",
                Value::from(format!("arn:aws:ec2:{}:{owner}:vpc/{id}", cx.region)),
            ),
            ("cidr_block", opt_s(vpc.cidr_block())),
            ("default", Value::Bool(vpc.is_default().unwrap_or(false))),
            ("state", opt_s(vpc.state().map(|s| s.as_str()))),
            ("owner_id", Value::from(owner)),
            ("dhcp_options_id", opt_s(vpc.dhcp_options_id())),
            (
                "instance_tenancy",
                opt_s(vpc.instance_tenancy().map(|s| s.as_str())),
            ),
            (
                "tags",
                Value::Map(
                    read_tags
                        .into_iter()
                        .filter(|(k, _)| k != crate::tags::TOKEN_TAG)
                        .map(|(k, v)| (k, Value::from(v)))
                        .collect(),
                ),
            ),
        ] {
            put(&mut v, k, x);
        }
        Ok(v)
    }
}
