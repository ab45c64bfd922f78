//! Each type's schema, declared as data: `schema/resources/<type>.json` and
//! `schema/data/<type>.json`, in the block format of Terraform's `providers schema -json` with
//! `force_new` and `default` beside (see [`ResourceSchema::from_block_json`]). `tags`,
//! `tags_all` and what hashicorp/aws takes that Terrane does not yet are added by `lib.rs`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value as J;
use terrane_core::ResourceSchema;

mod files {
    include!(concat!(env!("OUT_DIR"), "/schema_files.rs"));
}

fn parsed(
    files: &'static [(&str, &str)],
) -> BTreeMap<&'static str, Result<ResourceSchema, String>> {
    files
        .iter()
        .map(|(name, text)| {
            let schema = serde_json::from_str::<J>(text)
                .map_err(|e| e.to_string())
                .and_then(|j| ResourceSchema::from_block_json(&j));
            (*name, schema)
        })
        .collect()
}

fn table(data: bool) -> &'static BTreeMap<&'static str, Result<ResourceSchema, String>> {
    static RESOURCES: OnceLock<BTreeMap<&str, Result<ResourceSchema, String>>> = OnceLock::new();
    static DATA: OnceLock<BTreeMap<&str, Result<ResourceSchema, String>>> = OnceLock::new();
    if data {
        DATA.get_or_init(|| parsed(files::DATA))
    } else {
        RESOURCES.get_or_init(|| parsed(files::RESOURCES))
    }
}

/// The schema of a resource type, or why its file is missing or wrong (a unit test over the
/// table makes sure neither happens in a build).
pub fn resource(name: &str) -> Result<ResourceSchema, String> {
    of(table(false), "resources", name)
}

/// The schema of a data source.
pub fn data(name: &str) -> Result<ResourceSchema, String> {
    of(table(true), "data", name)
}

fn of(
    table: &BTreeMap<&str, Result<ResourceSchema, String>>,
    dir: &str,
    name: &str,
) -> Result<ResourceSchema, String> {
    match table.get(name) {
        Some(Ok(s)) => Ok(s.clone()),
        Some(Err(e)) => Err(format!("schema/{dir}/{name}.json: {e}")),
        None => Err(format!("schema/{dir}/{name}.json is missing")),
    }
}

/// A schema file's text: the block's attributes one a line, its blocks indented below (the
/// form a test keeps every file in).
#[cfg(test)]
pub fn to_file(s: &ResourceSchema) -> String {
    let mut out = String::new();
    write_block(&mut out, &s.to_block_json(), 0);
    out.push('\n');
    out
}

#[cfg(test)]
fn write_block(out: &mut String, block: &J, depth: usize) {
    let pad = "  ".repeat(depth);
    let mut sections = Vec::new();
    if let Some(attrs) = block.get("attributes").and_then(J::as_object) {
        let lines: Vec<String> = attrs
            .iter()
            .map(|(name, a)| format!("{pad}    {}: {a}", J::from(name.as_str())))
            .collect();
        sections.push(format!(
            "{pad}  \"attributes\": {{\n{}\n{pad}  }}",
            lines.join(",\n")
        ));
    }
    if let Some(blocks) = block.get("block_types").and_then(J::as_object) {
        let mut lines = Vec::new();
        for (name, b) in blocks {
            let mut head = b.clone();
            let inner = head
                .as_object_mut()
                .and_then(|m| m.remove("block"))
                .unwrap_or_default();
            let head = head.to_string();
            let mut line = format!(
                "{pad}    {}: {}, \"block\": ",
                J::from(name.as_str()),
                &head[..head.len() - 1]
            );
            write_block(&mut line, &inner, depth + 2);
            line.push('}');
            lines.push(line);
        }
        sections.push(format!(
            "{pad}  \"block_types\": {{\n{}\n{pad}  }}",
            lines.join(",\n")
        ));
    }
    if sections.is_empty() {
        out.push_str("{}");
    } else {
        out.push_str(&format!("{{\n{}\n{pad}}}", sections.join(",\n")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every type of the table and every data source has its file, which parses and is written
    /// as [`to_file`] writes it; no file is left without a type.
    #[test]
    fn every_type_has_a_schema_file_in_its_canonical_form_and_every_file_a_type() {
        let names = |files: &[(&str, &str)]| -> Vec<String> {
            files.iter().map(|(n, _)| n.to_string()).collect()
        };
        let resources: Vec<String> = crate::resources::all()
            .iter()
            .map(|r| r.name().into())
            .collect();
        let data: Vec<String> = crate::resources::all_data()
            .iter()
            .map(|d| d.name().into())
            .collect();
        let (mut r, mut d) = (resources.clone(), data.clone());
        r.sort();
        d.sort();
        assert_eq!(names(files::RESOURCES), r);
        assert_eq!(names(files::DATA), d);
        for (dir, files) in [("resources", files::RESOURCES), ("data", files::DATA)] {
            for (name, text) in files {
                let s = of(table(dir == "data"), dir, name).unwrap();
                assert_eq!(
                    &to_file(&s),
                    text,
                    "schema/{dir}/{name}.json is not in canonical form"
                );
            }
        }
    }

    #[test]
    fn a_missing_or_broken_schema_file_is_named() {
        let mut t = parsed(&[(
            "aws_broken",
            "{\"attributes\": {\"a\": {\"type\": \"string\"}}}",
        )]);
        assert_eq!(
            of(&t, "resources", "aws_broken").unwrap_err(),
            "schema/resources/aws_broken.json: attribute \"a\": none of required, optional or computed"
        );
        t.clear();
        assert_eq!(
            of(&t, "data", "aws_none").unwrap_err(),
            "schema/data/aws_none.json is missing"
        );
    }
}
