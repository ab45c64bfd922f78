//! YAML: `yamlencode` as Terraform writes it and `yamldecode` for the YAML that configurations
//! read (block and flow collections, plain, quoted and block scalars, comments, one document).
//! Anchors, aliases and tags other than the core ones are refused with an error.

use terrane_core::Value;

use super::{arity, s, R};

/// `Some(result)` for the functions of this file, `None` for any other name.
pub(super) fn call(name: &str, a: &[Value]) -> Option<R> {
    Some(match name {
        "yamlencode" => arity(name, a, 1).map(|()| {
            let mut out = String::new();
            yaml(&a[0], 0, &mut out);
            if matches!(a[0], Value::Null | Value::Bool(_) | Value::Number(_)) {
                // A document that is only a plain scalar ends with a marker.
                out.push_str("...\n");
            }
            Value::String(out)
        }),
        "yamldecode" => arity(name, a, 1).and_then(|()| decode(&s(&a[0])?)),
        _ => return None,
    })
}

pub(super) const NAMES: &[&str] = &["yamlencode", "yamldecode"];

mod decode;
use decode::decode;

fn quoted(t: &str) -> String {
    serde_json::Value::String(t.to_string()).to_string()
}

/// A value written on its key's or dash's line; a string of several lines is a literal block
/// whose lines are indented by `block_indent`.
fn scalar(v: &Value, block_indent: usize) -> Option<String> {
    Some(match v {
        Value::String(t) if t.contains('\n') => literal_block(t, block_indent),
        Value::Null | Value::Unknown => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(_) => v.to_json().to_string(),
        Value::String(t) => quoted(t),
        Value::List(l) if l.is_empty() => "[]".into(),
        Value::Map(m) if m.is_empty() => "{}".into(),
        _ => return None,
    })
}

/// `|-`, `|` or `|+` (no, one or more final newlines) and the lines of `t`.
fn literal_block(t: &str, indent: usize) -> String {
    let body = t.trim_end_matches('\n');
    let chomp = match t.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let pad = " ".repeat(indent);
    let mut out = format!("|{chomp}");
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    for _ in 1..(t.len() - body.len()) {
        out.push('\n');
    }
    out
}

/// YAML as Terraform's `yamlencode` writes it: block style, every string and key quoted,
/// two-space indentation for maps inside maps, list items at their key's indentation.
fn yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    if let Some(x) = scalar(v, indent.max(2)) {
        out.push_str(&x);
        out.push('\n');
        return;
    }
    match v {
        Value::Map(m) => {
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(&pad);
                }
                out.push_str(&quoted(k));
                out.push(':');
                match (scalar(x, indent + 2), x) {
                    (Some(sc), _) => {
                        out.push(' ');
                        out.push_str(&sc);
                        out.push('\n');
                    }
                    (None, Value::List(_)) => {
                        out.push('\n');
                        out.push_str(&pad);
                        yaml(x, indent, out);
                    }
                    (None, _) => {
                        out.push('\n');
                        out.push_str(&" ".repeat(indent + 2));
                        yaml(x, indent + 2, out);
                    }
                }
            }
        }
        Value::List(l) => {
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(&pad);
                }
                out.push_str("- ");
                yaml(x, indent + 2, out);
            }
        }
        _ => unreachable!("scalars are written above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, args: &[Value]) -> R {
        call(name, args).expect("a function of this file")
    }
    fn st(x: &str) -> Value {
        Value::from(x)
    }

    #[test]
    fn yamlencode_writes_what_terraform_writes() {
        let y = |v: Value| c("yamlencode", &[v]).unwrap();
        assert_eq!(
            y(Value::map([("a", st("b")), ("c", st("d"))])),
            st("\"a\": \"b\"\n\"c\": \"d\"\n")
        );
        assert_eq!(
            y(Value::map([
                (
                    "foo",
                    Value::List(vec![
                        Value::from(1i64),
                        Value::from(2i64),
                        Value::from(3i64)
                    ])
                ),
                ("bar", st("baz"))
            ])),
            st("\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n")
        );
        assert_eq!(
            y(Value::map([
                (
                    "foo",
                    Value::List(vec![
                        Value::from(1i64),
                        Value::map([("a", st("b")), ("c", st("d"))]),
                        Value::from(3i64)
                    ])
                ),
                ("bar", st("baz"))
            ])),
            st("\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n")
        );
        assert_eq!(
            y(Value::map([(
                "outer",
                Value::map([("inner", Value::Bool(true))])
            )])),
            st("\"outer\":\n  \"inner\": true\n")
        );
        assert_eq!(y(Value::List(vec![])), st("[]\n"));
    }

    #[test]
    fn yamldecode_reads_block_flow_and_scalars() {
        let y = |t: &str| c("yamldecode", &[st(t)]).unwrap();
        assert_eq!(y("hello: world"), Value::map([("hello", st("world"))]));
        assert_eq!(y("true"), Value::Bool(true));
        assert_eq!(
            y("{a: [1, 2, 3], b: [4]}"),
            Value::map([
                (
                    "a",
                    Value::List(vec![1i64.into(), 2i64.into(), 3i64.into()])
                ),
                ("b", Value::List(vec![4i64.into()]))
            ])
        );
        let doc = "# a comment\nname: web  # trailing\nports:\n  - 80\n  - 443\nenv:\n- name: A\n  value: \"1\"\nscript: |\n  echo hi\n  echo there\nfolded: >-\n  one\n  two\nempty:\nquoted: 'it''s'\n";
        assert_eq!(
            y(doc),
            Value::map([
                ("name", st("web")),
                ("ports", Value::List(vec![80i64.into(), 443i64.into()])),
                (
                    "env",
                    Value::List(vec![Value::map([("name", st("A")), ("value", st("1"))])])
                ),
                ("script", st("echo hi\necho there\n")),
                ("folded", st("one two")),
                ("empty", Value::Null),
                ("quoted", st("it's")),
            ])
        );
        assert!(c("yamldecode", &[st("a: 1\n---\nb: 2\n")]).is_err());
        assert!(c("yamldecode", &[st("a: *x")]).is_err());
    }
}
