//! Terraform's JSON configuration syntax (`*.tf.json`), read by writing it out as the native
//! syntax it stands for and loading that: a file's top-level object holds block types
//! (`resource`, `variable`, ...), each nested by its labels; strings are templates
//! (`"${var.x}"`), except where Terraform reads them as references (`depends_on`,
//! `provider`, `type`, `lifecycle`'s lists, `moved`/`import`/`removed` addresses, a module's
//! `providers`). Objects and arrays of objects inside resource and provider bodies are written
//! as arguments; the body's schema decides later whether they are blocks
//! (`crate::eval::body`). Keys named `//` are comments.
//!
//! Diagnostics point at the native text, whose lines follow the JSON's structure, not its
//! line numbers.

use serde_json::Value as J;

/// Block types and how many labels each takes.
fn labels_of(block: &str) -> Option<usize> {
    Some(match block {
        "resource" | "data" => 2,
        "variable" | "output" | "module" | "provider" | "check" => 1,
        "locals" | "terraform" | "moved" | "import" | "removed" => 0,
        _ => return None,
    })
}

/// The native syntax of a `.tf.json` file, or an error with its JSON line and column.
pub fn json_to_hcl(src: &str) -> Result<String, (String, usize, usize)> {
    let j: J = serde_json::from_str(src).map_err(|e| (e.to_string(), e.line(), e.column()))?;
    let J::Object(top) = j else {
        return Err(("a JSON configuration file is one object".into(), 1, 1));
    };
    let mut out = String::new();
    for (block, v) in &top {
        if block == "//" {
            continue;
        }
        let Some(n) = labels_of(block) else {
            return Err((format!("unknown block type {block:?}"), 1, 1));
        };
        labelled(block, n, v, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

fn labelled(
    block: &str,
    n: usize,
    v: &J,
    labels: &mut Vec<String>,
    out: &mut String,
) -> Result<(), (String, usize, usize)> {
    if labels.len() == n {
        // A block may be given once as an object or several times as an array of objects.
        let bodies: Vec<&J> = match v {
            J::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for b in bodies {
            let J::Object(body) = b else {
                return Err((
                    format!("the body of a {block} block must be an object"),
                    1,
                    1,
                ));
            };
            out.push_str(block);
            for l in labels.iter() {
                out.push(' ');
                out.push_str(&quote(l));
            }
            out.push_str(" {\n");
            body_of(block, body, 1, out);
            out.push_str("}\n");
        }
        return Ok(());
    }
    let J::Object(m) = v else {
        return Err((
            format!("{block} blocks are nested by their labels as objects"),
            1,
            1,
        ));
    };
    for (k, x) in m {
        if k == "//" {
            continue;
        }
        labels.push(k.clone());
        labelled(block, n, x, labels, out)?;
        labels.pop();
    }
    Ok(())
}

/// Arguments read as references or type expressions, not templates, per block type.
fn bare(block: &str, key: &str) -> bool {
    matches!(
        (block, key),
        (_, "depends_on")
            | ("resource" | "data", "provider")
            | ("variable", "type")
            | ("moved", "from" | "to")
            | ("import", "to" | "provider")
            | ("removed", "from")
            | ("lifecycle", "ignore_changes" | "replace_triggered_by")
    )
}

/// Nested blocks each block type has (the rest of an object is an argument).
fn nested_blocks(block: &str) -> &'static [&'static str] {
    match block {
        "resource" | "data" => &["lifecycle", "provisioner", "connection"],
        "variable" => &["validation"],
        "output" => &["precondition"],
        "lifecycle" => &["precondition", "postcondition"],
        "terraform" => &["required_providers", "backend", "cloud"],
        "removed" => &["lifecycle"],
        "check" => &["assert", "data"],
        _ => &[],
    }
}

fn body_of(block: &str, body: &serde_json::Map<String, J>, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    for (k, v) in body {
        if k == "//" {
            continue;
        }
        if nested_blocks(block).contains(&k.as_str()) {
            // provisioner and backend blocks are labelled: {"local-exec": {...}}.
            let labelled_block = matches!(k.as_str(), "provisioner" | "backend" | "data");
            let items: Vec<&J> = match v {
                J::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for item in items {
                let J::Object(m) = item else { continue };
                if labelled_block {
                    for (label, inner) in m {
                        let inner_items: Vec<&J> = match inner {
                            J::Array(i) => i.iter().collect(),
                            o => vec![o],
                        };
                        for ib in inner_items {
                            if k == "data" {
                                // data "type" "name" inside check: two labels.
                                if let J::Object(names) = ib {
                                    for (name, b) in names {
                                        out.push_str(&format!(
                                            "{pad}data {} {} {{\n",
                                            quote(label),
                                            quote(name)
                                        ));
                                        if let J::Object(bm) = b {
                                            body_of("data", bm, depth + 1, out);
                                        }
                                        out.push_str(&format!("{pad}}}\n"));
                                    }
                                }
                                continue;
                            }
                            out.push_str(&format!("{pad}{k} {} {{\n", quote(label)));
                            if let J::Object(bm) = ib {
                                body_of(k, bm, depth + 1, out);
                            }
                            out.push_str(&format!("{pad}}}\n"));
                        }
                    }
                } else {
                    out.push_str(&format!("{pad}{k} {{\n"));
                    body_of(k, m, depth + 1, out);
                    out.push_str(&format!("{pad}}}\n"));
                }
            }
            continue;
        }
        out.push_str(&pad);
        out.push_str(&key(k));
        out.push_str(" = ");
        if bare(block, k) {
            bare_value(v, out);
        } else if block == "module" && k == "providers" {
            // { "aws" = "aws.west" } : references as values.
            match v {
                J::Object(m) => {
                    out.push('{');
                    for (i, (pk, pv)) in m.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        out.push_str(&key(pk));
                        out.push_str(" = ");
                        bare_value(pv, out);
                    }
                    out.push('}');
                }
                other => value(other, out),
            }
        } else {
            value(v, out);
        }
        out.push('\n');
    }
}

/// A string holding an expression (a reference, a type), written without quotes.
fn bare_value(v: &J, out: &mut String) {
    match v {
        J::String(s) => out.push_str(s.trim_start_matches("${").trim_end_matches('}')),
        J::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                bare_value(x, out);
            }
            out.push(']');
        }
        other => value(other, out),
    }
}

/// A JSON value as a native expression: strings as templates, objects and arrays nested.
fn value(v: &J, out: &mut String) {
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(&b.to_string()),
        J::Number(n) => out.push_str(&n.to_string()),
        J::String(s) => out.push_str(&template(s)),
        J::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value(x, out);
            }
            out.push(']');
        }
        J::Object(m) => {
            out.push('{');
            let mut first = true;
            for (k, x) in m {
                if k == "//" {
                    continue;
                }
                if !first {
                    out.push_str(", ");
                }
                first = false;
                out.push_str(&quote(k));
                out.push_str(" = ");
                value(x, out);
            }
            out.push('}');
        }
    }
}

fn key(k: &str) -> String {
    let ident = k
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if ident {
        k.to_string()
    } else {
        quote(k)
    }
}

/// A string literal with no template sequences.
fn quote(s: &str) -> String {
    let mut out = template(s);
    out = out.replace("${", "$${").replace("%{", "%%{");
    out
}

/// A JSON string as a native template: its `${...}` and `%{...}` sequences kept.
fn template(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_blocks_become_native_ones() {
        let src = r#"{
          "//": "generated",
          "variable": {"env": {"type": "string", "default": "dev"}},
          "resource": {"terraform_data": {"a": {"input": "x-${var.env}", "depends_on": ["terraform_data.b"], "lifecycle": {"ignore_changes": ["input"]}}}},
          "output": {"o": {"value": "${terraform_data.a.output}"}}
        }"#;
        let hcl = json_to_hcl(src).unwrap();
        assert_eq!(
            hcl,
            "output \"o\" {\n  value = \"${terraform_data.a.output}\"\n}\nresource \"terraform_data\" \"a\" {\n  depends_on = [terraform_data.b]\n  input = \"x-${var.env}\"\n  lifecycle {\n    ignore_changes = [input]\n  }\n}\nvariable \"env\" {\n  default = \"dev\"\n  type = string\n}\n"
        );
        assert!(json_to_hcl("{\"resource\": ").is_err());
    }
}
