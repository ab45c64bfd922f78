//! hashicorp/aws 5.100.0's schema (`schema/`), the surface users' configurations are written
//! against. Every argument and block that it gives a supported type and that Terrane's schema of
//! the type lacks is marked "not supported yet" ([`ResourceSchema::not_yet`]), so that the engine
//! refuses it as such instead of as an unknown argument.

use std::sync::OnceLock;

use serde_json::Value as J;
use terrane_core::ResourceSchema;

const SCHEMA: &str = include_str!("../schema/hashicorp-aws-5.100.0.json");

fn reference() -> &'static J {
    static PARSED: OnceLock<J> = OnceLock::new();
    PARSED.get_or_init(|| serde_json::from_str(SCHEMA).expect("the bundled schema is JSON"))
}

/// The reference's block for a resource type (`resource_schemas`) or data source
/// (`data_source_schemas`).
fn block(kind: &str, type_name: &str) -> Option<&'static J> {
    reference().get(kind)?.get(type_name)?.get("block")
}

/// Marks in `ours` (and its nested blocks) what the reference block takes and `ours` lacks.
fn mark(ours: &mut ResourceSchema, theirs: &J) {
    let names = |k: &str| {
        theirs
            .get(k)
            .and_then(J::as_object)
            .into_iter()
            .flat_map(|m| m.keys().cloned())
    };
    for n in names("attributes").chain(names("block_types")) {
        if !ours.attributes.contains_key(&n) && !ours.blocks.contains_key(&n) {
            ours.not_yet.insert(n);
        }
    }
    if let Some(types) = theirs.get("block_types").and_then(J::as_object) {
        for (n, t) in types {
            if let (Some(b), Some(tb)) = (ours.blocks.get_mut(n), t.get("block")) {
                mark(&mut b.schema, tb);
            }
        }
    }
}

/// Marks a resource type's schema.
pub fn mark_resource(type_name: &str, s: &mut ResourceSchema) {
    if let Some(b) = block("resource_schemas", type_name) {
        mark(s, b);
    }
}

/// Marks a data source's schema.
pub fn mark_data_source(type_name: &str, s: &mut ResourceSchema) {
    if let Some(b) = block("data_source_schemas", type_name) {
        mark(s, b);
    }
}

/// Marks the provider block's schema.
pub fn mark_provider(s: &mut ResourceSchema) {
    if let Some(b) = reference().get("provider").and_then(|p| p.get("block")) {
        mark(s, b);
    }
}

/// Every `type.path.argument` not supported yet, sorted.
#[cfg(test)]
fn missing(type_name: &str, s: &ResourceSchema) -> Vec<String> {
    let mut out = Vec::new();
    walk(type_name, s, &mut out);
    out.sort();
    out
}

#[cfg(test)]
fn walk(prefix: &str, s: &ResourceSchema, out: &mut Vec<String>) {
    out.extend(s.not_yet.iter().map(|n| format!("{prefix}.{n}")));
    for (n, b) in &s.blocks {
        walk(&format!("{prefix}.{n}"), &b.schema, out);
    }
}

#[cfg(test)]
mod tests {
    use terrane_core::Provider;

    use super::*;

    /// What hashicorp/aws 5.100.0 takes and Terrane does not yet, per type: the list shrinks on
    /// purpose (the snapshot changes with it) and never grows unnoticed.
    #[test]
    fn schemas_compared_with_hashicorp_aws() {
        let p = crate::AwsProvider::new();
        let schema = p.schema();
        let mut lines = Vec::new();
        let mut total = 0;
        let mut types_missing = 0;
        for (name, s) in &schema.resources {
            assert!(
                block("resource_schemas", name).is_some(),
                "{name} is not in the reference schema"
            );
            let m = missing(name, s);
            total += m.len();
            types_missing += usize::from(!m.is_empty());
            lines.extend(m);
        }
        for (name, s) in &schema.data_sources {
            lines.extend(missing(&format!("data.{name}"), s));
        }
        lines.extend(missing("provider", &schema.provider));
        let header = format!(
            "{total} arguments and blocks of {types_missing} of {} resource types not supported yet",
            schema.resources.len()
        );
        insta::assert_snapshot!(format!("{header}\n{}", lines.join("\n")));
    }

    #[test]
    fn an_argument_of_the_reference_is_not_yet_and_an_invented_one_is_unknown() {
        let p = crate::AwsProvider::new();
        let vpc = &p.schema().resources["aws_vpc"];
        assert!(vpc.attributes.contains_key("cidr_block"));
        assert!(vpc.not_yet_message("cidr_block").is_none());
        assert!(vpc.not_yet_message("no_such_argument").is_none());
        let missing: Vec<_> = vpc.not_yet.iter().collect();
        if let Some(n) = missing.first() {
            assert!(vpc
                .not_yet_message(n)
                .unwrap()
                .contains("does not support it yet"));
        }
    }
}
