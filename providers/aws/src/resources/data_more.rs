//! Data sources: aws_iam_policy_document (computed locally, as in Terraform) and aws_vpc.

use async_trait::async_trait;
use serde_json::{json, Map, Value as J};
use terrane_core::{Attribute, Nesting, ResourceSchema, Type, Value};

use super::util::{blocks, opt_s, str_map, strs_of};
use super::{str_of, AwsData};
use crate::config::Clients;
use crate::error::{sdk, AwsError};
use crate::tags;

pub struct PolicyDocument;
pub struct Vpc;

/// One string, or a sorted list when there are several (as Terraform renders sets).
fn one_or_many(mut v: Vec<String>) -> J {
    v.sort();
    v.dedup();
    if v.len() == 1 {
        J::String(v.remove(0))
    } else {
        J::Array(v.into_iter().map(J::String).collect())
    }
}

fn principals(items: &[&Value]) -> Option<J> {
    if items.is_empty() {
        return None;
    }
    if items.len() == 1
        && str_of(items[0], "type") == Some("*")
        && strs_of(items[0], "identifiers") == ["*"]
    {
        return Some(J::String("*".into()));
    }
    let mut m = Map::new();
    for p in items {
        let ty = str_of(p, "type").unwrap_or_default().to_string();
        let mut ids = strs_of(p, "identifiers");
        if let Some(J::String(s)) = m.get(&ty) {
            ids.push(s.clone());
        } else if let Some(J::Array(a)) = m.get(&ty) {
            ids.extend(a.iter().filter_map(|x| x.as_str().map(String::from)));
        }
        m.insert(ty, one_or_many(ids));
    }
    Some(J::Object(m))
}

/// Renders the document JSON from the configured `statement` blocks.
pub fn render(config: &Value) -> String {
    let mut statements = Vec::new();
    for s in blocks(config, "statement") {
        let mut o = Map::new();
        if let Some(sid) = str_of(s, "sid") {
            o.insert("Sid".into(), J::String(sid.into()));
        }
        o.insert(
            "Effect".into(),
            J::String(str_of(s, "effect").unwrap_or("Allow").into()),
        );
        for (k, key) in [
            ("actions", "Action"),
            ("not_actions", "NotAction"),
            ("resources", "Resource"),
            ("not_resources", "NotResource"),
        ] {
            let v = strs_of(s, k);
            if !v.is_empty() {
                o.insert(key.into(), one_or_many(v));
            }
        }
        if let Some(p) = principals(&blocks(s, "principals")) {
            o.insert("Principal".into(), p);
        }
        if let Some(p) = principals(&blocks(s, "not_principals")) {
            o.insert("NotPrincipal".into(), p);
        }
        let conds = blocks(s, "condition");
        if !conds.is_empty() {
            let mut m: Map<String, J> = Map::new();
            for c in conds {
                let test = str_of(c, "test").unwrap_or_default().to_string();
                let var = str_of(c, "variable").unwrap_or_default().to_string();
                let entry = m.entry(test).or_insert_with(|| J::Object(Map::new()));
                if let J::Object(e) = entry {
                    e.insert(var, one_or_many(strs_of(c, "values")));
                }
            }
            o.insert("Condition".into(), J::Object(m));
        }
        statements.push(J::Object(o));
    }
    let mut doc = Map::new();
    doc.insert(
        "Version".into(),
        J::String(str_of(config, "version").unwrap_or("2012-10-17").into()),
    );
    if let Some(id) = str_of(config, "policy_id") {
        doc.insert("Id".into(), J::String(id.into()));
    }
    doc.insert("Statement".into(), J::Array(statements));
    serde_json::to_string_pretty(&J::Object(doc)).unwrap_or_else(|_| json!({}).to_string())
}

#[async_trait]
impl AwsData for PolicyDocument {
    fn name(&self) -> &'static str {
        "aws_iam_policy_document"
    }

    fn schema(&self) -> ResourceSchema {
        let principal = || {
            ResourceSchema::new()
                .attr("type", Attribute::required(Type::String))
                .attr("identifiers", Attribute::required(Type::set(Type::String)))
        };
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("json", Attribute::computed(Type::String))
            .attr("version", Attribute::optional(Type::String))
            .attr("policy_id", Attribute::optional(Type::String))
            .block(
                "statement",
                Nesting::List,
                ResourceSchema::new()
                    .attr("sid", Attribute::optional(Type::String))
                    .attr("effect", Attribute::optional(Type::String))
                    .attr("actions", Attribute::optional(Type::set(Type::String)))
                    .attr("not_actions", Attribute::optional(Type::set(Type::String)))
                    .attr("resources", Attribute::optional(Type::set(Type::String)))
                    .attr(
                        "not_resources",
                        Attribute::optional(Type::set(Type::String)),
                    )
                    .block("principals", Nesting::Set, principal())
                    .block("not_principals", Nesting::Set, principal())
                    .block(
                        "condition",
                        Nesting::Set,
                        ResourceSchema::new()
                            .attr("test", Attribute::required(Type::String))
                            .attr("variable", Attribute::required(Type::String))
                            .attr("values", Attribute::required(Type::list(Type::String))),
                    ),
            )
    }

    async fn read(&self, _cx: &Clients, config: &Value) -> Result<Value, AwsError> {
        let doc = render(config);
        // A stable id from the content (Terraform uses a hash too).
        let h = super::util::fnv64(&doc);
        let mut v = config.clone();
        super::put(&mut v, "json", Value::from(doc));
        super::put(&mut v, "id", Value::from(h.to_string()));
        Ok(v)
    }
}

#[async_trait]
impl AwsData for Vpc {
    fn name(&self) -> &'static str {
        "aws_vpc"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::optional_computed(Type::String))
            .attr("default", Attribute::optional_computed(Type::Bool))
            .attr("cidr_block", Attribute::optional_computed(Type::String))
            .attr("state", Attribute::optional_computed(Type::String))
            .attr(
                "tags",
                Attribute::optional_computed(Type::map(Type::String)),
            )
            .attr("arn", Attribute::computed(Type::String))
            .attr("owner_id", Attribute::computed(Type::String))
            .attr("dhcp_options_id", Attribute::computed(Type::String))
            .attr("instance_tenancy", Attribute::computed(Type::String))
            .block(
                "filter",
                Nesting::Set,
                ResourceSchema::new()
                    .attr("name", Attribute::required(Type::String))
                    .attr("values", Attribute::required(Type::set(Type::String))),
            )
    }

    async fn read(&self, cx: &Clients, config: &Value) -> Result<Value, AwsError> {
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
                    .name(str_of(b, "name").unwrap_or_default())
                    .set_values(Some(strs_of(b, "values")))
                    .build(),
            );
        }
        let out = req.send().await.map_err(|e| sdk("DescribeVpcs", e))?;
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
        let read_tags = tags::from_ec2(vpc.tags());
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
                        .filter(|(k, _)| !k.starts_with("terrane:"))
                        .map(|(k, v)| (k, Value::from(v)))
                        .collect(),
                ),
            ),
        ] {
            super::put(&mut v, k, x);
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_document_renders_like_terraform() {
        let cfg = Value::map([(
            "statement",
            Value::List(vec![Value::map([
                ("effect", Value::from("Allow")),
                ("actions", Value::List(vec![Value::from("sts:AssumeRole")])),
                (
                    "principals",
                    Value::List(vec![Value::map([
                        ("type", Value::from("Service")),
                        (
                            "identifiers",
                            Value::List(vec![Value::from("ecs-tasks.amazonaws.com")]),
                        ),
                    ])]),
                ),
                (
                    "condition",
                    Value::List(vec![Value::map([
                        ("test", Value::from("StringEquals")),
                        ("variable", Value::from("aws:SourceAccount")),
                        (
                            "values",
                            Value::List(vec![Value::from("1"), Value::from("2")]),
                        ),
                    ])]),
                ),
            ])]),
        )]);
        let j: J = serde_json::from_str(&render(&cfg)).unwrap();
        assert_eq!(
            j,
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",
              "Principal":{"Service":"ecs-tasks.amazonaws.com"},
              "Condition":{"StringEquals":{"aws:SourceAccount":["1","2"]}}}]})
        );
    }
}
