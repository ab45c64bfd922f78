//! aws_iam_policy_document: computed locally, as in Terraform.

use crate::error::Result;
use serde_json::{json, Map, Value as J};

use super::*;

pub struct PolicyDocument;

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
        let ty = string_of(p, "type");
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
                let test = string_of(c, "test");
                let var = string_of(c, "variable");
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
    async fn read(&self, _cx: &Clients, config: &Value) -> Result<Value> {
        let doc = render(config);
        // A stable id from the content (Terraform uses a hash too).
        let h = crate::resources::lifecycle::fnv64(&doc);
        let mut v = config.clone();
        put(&mut v, "json", Value::from(doc));
        put(&mut v, "id", Value::from(h.to_string()));
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
