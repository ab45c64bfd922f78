//! Hashes, file contents, URLs, UUIDs and YAML: `sha512`, `base64sha256`, `base64sha512`,
//! `filebase64`, `filesha256`, `filesha512`, `filebase64sha256`, `filebase64sha512`, `abspath`,
//! `urlencode`, `uuid`, `yamlencode`. Files are read relative to the module.

use std::path::Path;

use sha2::{Digest, Sha256, Sha512};
use terrane_core::Value;

use super::{arity, s, R};
use crate::eval::encoding::base64_encode;

pub(super) fn call(name: &str, a: &[Value], module_dir: &Path) -> Option<R> {
    let file = |a: &[Value]| -> Result<Vec<u8>, String> {
        arity(name, a, 1)?;
        let p = module_dir.join(s(&a[0])?);
        std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let text = |a: &[Value]| -> Result<Vec<u8>, String> {
        arity(name, a, 1)?;
        Ok(s(&a[0])?.into_bytes())
    };
    let hex = |b: &[u8]| Value::String(hex::encode(b));
    let b64 = |b: &[u8]| Value::String(base64_encode(b));
    Some(match name {
        "sha512" => text(a).map(|b| hex(&Sha512::digest(b))),
        "base64sha256" => text(a).map(|b| b64(&Sha256::digest(b))),
        "base64sha512" => text(a).map(|b| b64(&Sha512::digest(b))),
        "filebase64" => file(a).map(|b| b64(&b)),
        "filesha256" => file(a).map(|b| hex(&Sha256::digest(b))),
        "filesha512" => file(a).map(|b| hex(&Sha512::digest(b))),
        "filebase64sha256" => file(a).map(|b| b64(&Sha256::digest(b))),
        "filebase64sha512" => file(a).map(|b| b64(&Sha512::digest(b))),
        "abspath" => arity(name, a, 1).and_then(|()| {
            let p = Path::new(&s(&a[0])?).to_path_buf();
            let abs = if p.is_absolute() {
                p
            } else {
                std::env::current_dir().map_err(|e| e.to_string())?.join(p)
            };
            Ok(Value::String(abs.display().to_string()))
        }),
        "urlencode" => arity(name, a, 1).and_then(|()| Ok(Value::String(urlencode(&s(&a[0])?)))),
        "uuid" => arity(name, a, 0).map(|()| Value::String(uuid4())),
        "yamlencode" => arity(name, a, 1).map(|()| {
            let mut out = String::new();
            yaml(&a[0], 0, &mut out);
            Value::String(out)
        }),
        _ => return None,
    })
}

pub(super) const NAMES: &[&str] = &[
    "sha512",
    "base64sha256",
    "base64sha512",
    "filebase64",
    "filesha256",
    "filesha512",
    "filebase64sha256",
    "filebase64sha512",
    "abspath",
    "urlencode",
    "uuid",
    "yamlencode",
];

/// As Go's `url.QueryEscape`: letters, digits and `-_.~` stay, a space is `+`.
fn urlencode(t: &str) -> String {
    let mut out = String::new();
    for b in t.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A random (version 4) UUID.
fn uuid4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn quoted(t: &str) -> String {
    serde_json::Value::String(t.to_string()).to_string()
}

fn scalar(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null | Value::Unknown => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(_) => v.to_json().to_string(),
        Value::String(t) => quoted(t),
        Value::List(l) if l.is_empty() => "[]".into(),
        Value::Map(m) if m.is_empty() => "{}".into(),
        _ => return None,
    })
}

/// YAML as Terraform's `yamlencode` writes it: block style, every string and key quoted,
/// two-space indentation for maps inside maps, list items at their key's indentation.
fn yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    if let Some(x) = scalar(v) {
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
                match (scalar(x), x) {
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
        call(name, args, Path::new(".")).expect("a function of this file")
    }
    fn st(x: &str) -> Value {
        Value::from(x)
    }

    /// The examples of Terraform's documentation for each function.
    #[test]
    fn encodings_match_terraform() {
        assert_eq!(
            c("base64sha256", &[st("hello world")]).unwrap(),
            st("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")
        );
        assert_eq!(
            c("sha512", &[st("hello world")]).unwrap(),
            st("309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f")
        );
        assert_eq!(
            c("urlencode", &[st("Hello World!")]).unwrap(),
            st("Hello+World%21")
        );
        assert_eq!(c("urlencode", &[st("☃")]).unwrap(), st("%E2%98%83"));
        assert_eq!(
            c("urlencode", &[st("foo:bar@localhost?foo=bar&bar=baz")]).unwrap(),
            st("foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz")
        );
        let u = c("uuid", &[]).unwrap();
        let u = u.as_str().unwrap();
        assert_eq!((u.len(), &u[14..15]), (36, "4"), "{u}");
        assert_ne!(c("uuid", &[]).unwrap(), c("uuid", &[]).unwrap());
    }

    #[test]
    fn files_are_read_relative_to_the_module() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hello.txt"), "hello world").unwrap();
        let f = |name: &str| call(name, &[st("hello.txt")], dir.path()).unwrap().unwrap();
        assert_eq!(f("filebase64"), st("aGVsbG8gd29ybGQ="));
        assert_eq!(
            f("filesha256"),
            st("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
        assert_eq!(
            f("filebase64sha256"),
            st("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")
        );
        let e = call("filesha256", &[st("missing.txt")], dir.path())
            .unwrap()
            .unwrap_err();
        assert!(e.contains("missing.txt"), "{e}");
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
}
