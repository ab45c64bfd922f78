//! Values as `terrane console` prints them, in Terraform's console layout: strings quoted (a
//! string of several lines as a heredoc), lists one element per line with a trailing comma,
//! objects one `"key" = value` per line, unknown values as `(known after apply)`.

use terrane_core::Value;

/// `v` as the console shows it.
pub fn console_value(v: &Value) -> String {
    let mut out = String::new();
    write(v, 0, &mut out);
    out
}

fn write(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent + 2);
    match v {
        Value::Null => out.push_str("null"),
        Value::Unknown => out.push_str("(known after apply)"),
        Value::Bool(b) => out.push_str(&b.to_string()),
        // In full, as Terraform prints numbers: 100000000000000000000, not 1e+20.
        Value::Number(n) => out.push_str(&terrane_core::value::format_number(*n)),
        Value::String(t) if t.contains('\n') => heredoc(t, indent, out),
        Value::String(t) => out.push_str(&serde_json::Value::String(t.clone()).to_string()),
        Value::List(l) if l.is_empty() => out.push_str("[]"),
        Value::List(l) => {
            out.push_str("[\n");
            for x in l {
                out.push_str(&pad);
                write(x, indent + 2, out);
                out.push_str(",\n");
            }
            out.push_str(&" ".repeat(indent));
            out.push(']');
        }
        Value::Map(m) if m.is_empty() => out.push_str("{}"),
        Value::Map(m) => {
            out.push_str("{\n");
            for (k, x) in m {
                out.push_str(&pad);
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push_str(" = ");
                write(x, indent + 2, out);
                out.push('\n');
            }
            out.push_str(&" ".repeat(indent));
            out.push('}');
        }
    }
}

/// A string of several lines as Terraform's console writes it: a heredoc (`<<-` and every line
/// indented when nested), each line as it is (a final newline makes a last, empty line), the
/// delimiter `EOT` with `_` added while a line is the delimiter itself.
fn heredoc(t: &str, indent: usize, out: &mut String) {
    let lines: Vec<&str> = t.split('\n').collect();
    let mut delimiter = String::from("EOT");
    while lines.iter().any(|l| l.trim() == delimiter) {
        delimiter.push('_');
    }
    let pad = " ".repeat(indent);
    out.push_str(if indent > 0 { "<<-" } else { "<<" });
    out.push_str(&delimiter);
    for l in lines {
        out.push('\n');
        out.push_str(&pad);
        out.push_str(l);
    }
    out.push('\n');
    out.push_str(&pad);
    out.push_str(&delimiter);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_laid_out_as_terraforms_console_does() {
        let v = Value::map([
            ("name", Value::from("web")),
            (
                "ports",
                Value::List(vec![Value::from(80i64), Value::from(443i64)]),
            ),
            ("tags", Value::map([("env", Value::from("dev"))])),
            ("id", Value::Unknown),
            ("empty", Value::List(vec![])),
        ]);
        assert_eq!(
            console_value(&v),
            "{\n  \"empty\" = []\n  \"id\" = (known after apply)\n  \"name\" = \"web\"\n  \"ports\" = [\n    80,\n    443,\n  ]\n  \"tags\" = {\n    \"env\" = \"dev\"\n  }\n}"
        );
        assert_eq!(console_value(&Value::from("a\nb")), "<<EOT\na\nb\nEOT");
        assert_eq!(console_value(&Value::Number(2.5)), "2.5");
        assert_eq!(console_value(&Value::Number(1e20)), "100000000000000000000");
        assert_eq!(console_value(&Value::Number(2e-7)), "0.0000002");
    }
}
