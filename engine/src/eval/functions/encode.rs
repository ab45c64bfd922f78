//! Hashes, file contents, text encodings, CSV, URLs and UUIDs: `md5`, `sha1`, `sha512`,
//! `base64sha256`, `base64sha512`, `bcrypt`, their `file*` forms, `filebase64`, `base64gzip`,
//! `textencodebase64`, `textdecodebase64`, `csvdecode`, `urlencode`, `uuid`, `uuidv5`. Files are
//! read relative to the module.

use std::path::Path;

use sha2::{Digest, Sha256, Sha512};
use terrane_core::Value;

use super::{arity, n, s, R};
use crate::eval::encoding::{base64_decode, base64_encode};

fn md5(b: &[u8]) -> Vec<u8> {
    <md5::Md5 as md5::Digest>::digest(b).to_vec()
}

fn sha1(b: &[u8]) -> Vec<u8> {
    sha1::Sha1::digest(b).to_vec()
}

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
        "md5" => text(a).map(|b| hex(&md5(&b))),
        "sha1" => text(a).map(|b| hex(&sha1(&b))),
        "sha512" => text(a).map(|b| hex(&Sha512::digest(b))),
        "filemd5" => file(a).map(|b| hex(&md5(&b))),
        "filesha1" => file(a).map(|b| hex(&sha1(&b))),
        "base64sha256" => text(a).map(|b| b64(&Sha256::digest(b))),
        "base64sha512" => text(a).map(|b| b64(&Sha512::digest(b))),
        "filebase64" => file(a).map(|b| b64(&b)),
        "filesha256" => file(a).map(|b| hex(&Sha256::digest(b))),
        "filesha512" => file(a).map(|b| hex(&Sha512::digest(b))),
        "filebase64sha256" => file(a).map(|b| b64(&Sha256::digest(b))),
        "filebase64sha512" => file(a).map(|b| b64(&Sha512::digest(b))),
        "base64gzip" => text(a).and_then(|b| {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&b)
                .and_then(|()| gz.finish())
                .map(|z| b64(&z))
                .map_err(|e| e.to_string())
        }),
        "textencodebase64" => {
            arity(name, a, 2).and_then(|()| Ok(b64(&text_encode(&s(&a[0])?, &s(&a[1])?)?)))
        }
        "textdecodebase64" => arity(name, a, 2).and_then(|()| {
            let bytes = base64_decode(&s(&a[0])?)?;
            text_decode(&bytes, &s(&a[1])?).map(Value::String)
        }),
        "csvdecode" => arity(name, a, 1).and_then(|()| csvdecode(&s(&a[0])?)),
        "bcrypt" => {
            if a.is_empty() || a.len() > 2 {
                return Some(Err("bcrypt() takes 1 or 2 arguments".into()));
            }
            (|| {
                let cost = match a.get(1) {
                    Some(c) => n(c)?,
                    None => 10.0,
                };
                if cost > 31.0 || cost.fract() != 0.0 {
                    return Err(format!(
                        "crypto/bcrypt: cost {cost} is outside allowed range (4,31)"
                    ));
                }
                // Below the minimum, Go's bcrypt (and so Terraform) uses its default, 10.
                let cost = if cost < 4.0 { 10.0 } else { cost };
                let h =
                    bcrypt::hash_with_result(s(&a[0])?, cost as u32).map_err(|e| e.to_string())?;
                Ok(Value::String(h.format_for_version(bcrypt::Version::TwoA)))
            })()
        }
        "urlencode" => arity(name, a, 1).and_then(|()| Ok(Value::String(urlencode(&s(&a[0])?)))),
        "uuid" => arity(name, a, 0).map(|()| Value::String(uuid4())),
        "uuidv5" => arity(name, a, 2).and_then(|()| uuidv5(&s(&a[0])?, &s(&a[1])?)),
        _ => return None,
    })
}

pub(super) const NAMES: &[&str] = &[
    "md5",
    "sha1",
    "filemd5",
    "filesha1",
    "base64gzip",
    "textencodebase64",
    "textdecodebase64",
    "csvdecode",
    "bcrypt",
    "uuidv5",
    "sha512",
    "base64sha256",
    "base64sha512",
    "filebase64",
    "filesha256",
    "filesha512",
    "filebase64sha256",
    "filebase64sha512",
    "urlencode",
    "uuid",
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
    uuid_text(&b)
}

/// A name-based (version 5, SHA-1) UUID in a namespace: `dns`, `url`, `oid`, `x500` or a UUID.
fn uuidv5(namespace: &str, name: &str) -> R {
    let ns = match namespace {
        "dns" => "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "url" => "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
        "oid" => "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
        "x500" => "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
        other => other,
    };
    let hexed: String = ns.chars().filter(|c| *c != '-').collect();
    let ns_bytes = match hex::decode(&hexed) {
        Ok(b) if b.len() == 16 && ns.len() == 36 => b,
        _ => return Err(format!("uuidv5() doesn't support namespace {namespace:?}")),
    };
    let mut input = ns_bytes;
    input.extend_from_slice(name.as_bytes());
    let digest = sha1(&input);
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    Ok(Value::String(uuid_text(&b)))
}

fn uuid_text(b: &[u8; 16]) -> String {
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

/// A character encoding by its IANA name, as Terraform's text functions take it.
enum Charset {
    Utf8,
    Utf16Le,
    Utf16Be,
    Latin1,
    Ascii,
}

fn charset(name: &str) -> Result<Charset, String> {
    Ok(match name.to_ascii_uppercase().replace('_', "-").as_str() {
        "UTF-8" | "UTF8" => Charset::Utf8,
        "UTF-16LE" => Charset::Utf16Le,
        "UTF-16BE" => Charset::Utf16Be,
        "ISO-8859-1" | "LATIN1" | "ISO-IR-100" | "L1" | "IBM819" | "CP819" => Charset::Latin1,
        "US-ASCII" | "ASCII" => Charset::Ascii,
        _ => {
            return Err(format!(
                "{name:?} is not a supported IANA encoding name or alias in this Terraform version"
            ))
        }
    })
}

fn text_encode(t: &str, name: &str) -> Result<Vec<u8>, String> {
    Ok(match charset(name)? {
        Charset::Utf8 => t.as_bytes().to_vec(),
        Charset::Utf16Le => t.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        Charset::Utf16Be => t.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        Charset::Latin1 | Charset::Ascii => {
            let max = if matches!(charset(name)?, Charset::Ascii) {
                0x7f
            } else {
                0xff
            };
            t.chars()
                .map(|c| {
                    u8::try_from(u32::from(c))
                        .ok()
                        .filter(|b| u32::from(*b) <= max)
                        .ok_or_else(|| format!("the given string contains characters that cannot be represented in {name}"))
                })
                .collect::<Result<_, _>>()?
        }
    })
}

fn text_decode(b: &[u8], name: &str) -> Result<String, String> {
    let utf16 = |units: Vec<u16>| {
        String::from_utf16(&units).map_err(|_| {
            format!("the given value is has an invalid base64 symbol or is not valid {name}")
        })
    };
    match charset(name)? {
        Charset::Utf8 => String::from_utf8(b.to_vec())
            .map_err(|_| format!("the given value is not valid {name}")),
        Charset::Utf16Le => utf16(
            b.chunks(2)
                .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect(),
        ),
        Charset::Utf16Be => utf16(
            b.chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect(),
        ),
        Charset::Latin1 | Charset::Ascii => Ok(b.iter().map(|&x| char::from(x)).collect()),
    }
}

/// Terraform's `csvdecode`: RFC 4180, the first row naming the fields; a list of maps.
fn csvdecode(t: &str) -> R {
    let rows = csv_rows(t)?;
    let mut rows = rows.into_iter();
    let header = rows.next().ok_or("missing header line")?;
    let mut out = Vec::new();
    for (i, row) in rows.enumerate() {
        if row.len() != header.len() {
            return Err(format!("record on line {}: wrong number of fields", i + 2));
        }
        out.push(Value::Map(
            header
                .iter()
                .cloned()
                .zip(row.into_iter().map(Value::String))
                .collect(),
        ));
    }
    Ok(Value::List(out))
}

fn csv_rows(t: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = t.chars().peekable();
    let mut line = 1;
    let mut quoted_field = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        match c {
            '"' if field.is_empty() && !quoted_field => {
                quoted_field = true;
                loop {
                    match chars.next() {
                        None => {
                            return Err(format!(
                            "parse error on line {line}: extraneous or missing \" in quoted-field"
                        ))
                        }
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(x) => {
                            if x == '\n' {
                                line += 1;
                            }
                            field.push(x)
                        }
                    }
                }
                if !matches!(chars.peek(), None | Some(',') | Some('\n') | Some('\r')) {
                    return Err(format!(
                        "parse error on line {line}: extraneous or missing \" in quoted-field"
                    ));
                }
            }
            '"' => {
                return Err(format!(
                    "parse error on line {line}: bare \" in non-quoted-field"
                ))
            }
            ',' => {
                row.push(std::mem::take(&mut field));
                quoted_field = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                quoted_field = false;
                rows.push(std::mem::take(&mut row));
                line += 1;
                any = false;
            }
            x => field.push(x),
        }
    }
    if any {
        row.push(field);
        rows.push(row);
    }
    // Blank lines are skipped, as Go's reader does.
    rows.retain(|r| !(r.len() == 1 && r[0].is_empty()));
    Ok(rows)
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
}
