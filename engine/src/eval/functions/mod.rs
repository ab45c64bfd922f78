//! Built-in functions with Terraform's semantics: the ones real modules use most here, and by
//! kind in `text.rs` (regular expressions, trimming), `time.rs` (timestamps), `collections.rs`
//! (sets, sums, numbers), `encode.rs` (hashes, text encodings, CSV, URLs, UUIDs), `yaml.rs`,
//! `files.rs` (paths and globs) and `terraform.rs` (`provider::terraform::*`). The functions that
//! see expressions rather than values (`try`, `can`, `sensitive`, `templatefile`, ...) are in
//! the evaluator.

mod collections;
mod encode;
mod files;
mod rsa;
pub(crate) mod terraform;
mod text;
mod time;
mod yaml;

use std::path::Path;

use terrane_core::{Value, ValueMap};

use super::encoding::{
    base64_decode, base64_encode, cidrhost, cidrsubnet, cidrsubnets, parse_cidr,
};
use collections::{set_of, unify};
use text::format;

type R = Result<Value, String>;

/// Functions that can work on collections holding unknown elements.
const PARTIAL_OK: &[&str] = &[
    "length", "merge", "concat", "keys", "values", "lookup", "element", "flatten", "zipmap",
    "tolist", "tomap", "coalesce", "slice", "reverse", "one",
];

fn arity(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!(
            "{name}() takes {n} argument(s), got {}",
            args.len()
        ));
    }
    Ok(())
}

fn s(v: &Value) -> Result<String, String> {
    v.to_template_string()
        .ok_or_else(|| format!("a string is required, got {}", v.type_name()))
}

fn n(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(x) => Ok(*x),
        Value::String(t) => t
            .parse()
            .map_err(|_| format!("a number is required, got {t:?}")),
        o => Err(format!("a number is required, got {}", o.type_name())),
    }
}

fn list(v: &Value) -> Result<&Vec<Value>, String> {
    match v {
        Value::List(l) => Ok(l),
        o => Err(format!("a list is required, got {}", o.type_name())),
    }
}

fn map(v: &Value) -> Result<&ValueMap, String> {
    match v {
        Value::Map(m) => Ok(m),
        o => Err(format!("a map is required, got {}", o.type_name())),
    }
}

pub fn call(name: &str, args: Vec<Value>, module_dir: &Path) -> R {
    let any_unknown = if PARTIAL_OK.contains(&name) {
        args.iter().any(Value::is_unknown)
    } else {
        args.iter().any(Value::contains_unknown)
    };
    if any_unknown {
        if !known(name) {
            return Err(unknown_fn(name));
        }
        return Ok(Value::Unknown);
    }
    let a = &args;
    match name {
        "length" => {
            arity(name, a, 1)?;
            Ok(Value::Number(match &a[0] {
                Value::List(l) => l.len(),
                Value::Map(m) => m.len(),
                Value::String(t) => t.chars().count(),
                o => return Err(format!("cannot take the length of {}", o.type_name())),
            } as f64))
        }
        "merge" => {
            let mut out = ValueMap::new();
            for v in a {
                match v {
                    Value::Null => {}
                    Value::Map(m) => out.extend(m.clone()),
                    o => {
                        return Err(format!(
                            "arguments must be maps or objects, got {}",
                            o.type_name()
                        ))
                    }
                }
            }
            Ok(Value::Map(out))
        }
        "concat" => {
            if a.is_empty() {
                return Err("at least one argument is required".into());
            }
            let mut out = Vec::new();
            for v in a {
                out.extend(list(v)?.iter().cloned());
            }
            Ok(Value::List(out))
        }
        "lookup" => {
            if a.len() != 2 && a.len() != 3 {
                return Err("lookup() takes 2 or 3 arguments".into());
            }
            let key = s(&a[1])?;
            match map(&a[0])?.get(&key) {
                Some(v) => Ok(v.clone()),
                None => a.get(2).cloned().ok_or_else(|| {
                    format!("the given key {key:?} is not in the map and no default was given")
                }),
            }
        }
        "element" => {
            arity(name, a, 2)?;
            let l = list(&a[0])?;
            if l.is_empty() {
                return Err("cannot use element() with an empty list".into());
            }
            let i = n(&a[1])?.trunc() as i64;
            // A negative index counts from the end, as in Terraform 1.x.
            Ok(l[i.rem_euclid(l.len() as i64) as usize].clone())
        }
        "format" => format(a),
        "formatlist" => {
            let (f, rest) = a.split_first().ok_or("formatlist() needs a format")?;
            let len = rest
                .iter()
                .filter_map(|v| v.as_list().map(|l| l.len()))
                .max()
                .unwrap_or(1);
            let mut out = Vec::new();
            for i in 0..len {
                let mut row = vec![f.clone()];
                for v in rest {
                    row.push(match v {
                        Value::List(l) => l
                            .get(i)
                            .cloned()
                            .ok_or("all lists must have the same length")?,
                        o => o.clone(),
                    });
                }
                out.push(format(&row)?);
            }
            Ok(Value::List(out))
        }
        "join" => {
            if a.len() < 2 {
                return Err("join() takes a separator and at least one list".into());
            }
            let sep = s(&a[0])?;
            let mut parts: Vec<String> = Vec::new();
            for l in &a[1..] {
                for v in list(l)? {
                    parts.push(s(v)?);
                }
            }
            Ok(Value::String(parts.join(&sep)))
        }
        "split" => {
            arity(name, a, 2)?;
            let (sep, t) = (s(&a[0])?, s(&a[1])?);
            if sep.is_empty() {
                return Ok(Value::List(
                    t.chars()
                        .map(|c| Value::from(c.to_string().as_str()))
                        .collect(),
                ));
            }
            Ok(Value::List(
                t.split(sep.as_str()).map(Value::from).collect(),
            ))
        }
        "keys" => {
            arity(name, a, 1)?;
            Ok(Value::List(
                map(&a[0])?
                    .keys()
                    .map(|k| Value::from(k.as_str()))
                    .collect(),
            ))
        }
        "values" => {
            arity(name, a, 1)?;
            Ok(Value::List(map(&a[0])?.values().cloned().collect()))
        }
        "coalesce" => a
            .iter()
            .find(|v| !v.is_null() && v.as_str() != Some(""))
            .cloned()
            .ok_or_else(|| "no non-null, non-empty-string arguments".into()),
        "coalescelist" => a
            .iter()
            .find(|v| v.as_list().is_some_and(|l| !l.is_empty()))
            .cloned()
            .ok_or_else(|| "no non-null arguments".into()),
        "compact" => {
            arity(name, a, 1)?;
            Ok(Value::List(
                list(&a[0])?
                    .iter()
                    .filter(|v| !v.is_null() && v.as_str() != Some(""))
                    .cloned()
                    .collect(),
            ))
        }
        "cidrsubnet" => {
            arity(name, a, 3)?;
            cidrsubnet(&s(&a[0])?, n(&a[1])? as u32, n(&a[2])? as u128).map(Value::String)
        }
        "cidrhost" => {
            arity(name, a, 2)?;
            cidrhost(&s(&a[0])?, n(&a[1])? as i128).map(Value::String)
        }
        "cidrnetmask" => {
            arity(name, a, 1)?;
            let (_, bits, v6) = parse_cidr(&s(&a[0])?)?;
            if v6 {
                return Err("cidrnetmask only supports IPv4".into());
            }
            let mask = if bits == 0 {
                0u32
            } else {
                u32::MAX << (32 - bits)
            };
            Ok(Value::String(std::net::Ipv4Addr::from(mask).to_string()))
        }
        "jsonencode" => {
            arity(name, a, 1)?;
            Ok(Value::String(json_html_safe(&a[0].to_json().to_string())))
        }
        "jsondecode" => {
            arity(name, a, 1)?;
            let j: serde_json::Value =
                serde_json::from_str(&s(&a[0])?).map_err(|e| format!("invalid JSON: {e}"))?;
            Ok(Value::from_json(&j))
        }
        "sha256" => {
            arity(name, a, 1)?;
            use sha2::{Digest, Sha256};
            Ok(Value::String(hex::encode(Sha256::digest(
                s(&a[0])?.as_bytes(),
            ))))
        }
        "base64encode" => {
            arity(name, a, 1)?;
            Ok(Value::String(base64_encode(s(&a[0])?.as_bytes())))
        }
        "base64decode" => {
            arity(name, a, 1)?;
            let bytes = base64_decode(&s(&a[0])?)?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| "the decoded bytes are not UTF-8".into())
        }
        "substr" => {
            arity(name, a, 3)?;
            let t: Vec<char> = s(&a[0])?.chars().collect();
            let mut off = n(&a[1])? as i64;
            let len = n(&a[2])? as i64;
            if off < 0 {
                off += t.len() as i64;
            }
            let off = off.clamp(0, t.len() as i64) as usize;
            let end = if len < 0 {
                t.len()
            } else {
                (off + len as usize).min(t.len())
            };
            Ok(Value::String(t[off..end].iter().collect()))
        }
        "replace" => {
            arity(name, a, 3)?;
            text::replace(&s(&a[0])?, &s(&a[1])?, &s(&a[2])?)
        }
        "lower" => Ok(Value::String(
            s(a.first().ok_or("lower() takes 1 argument")?)?.to_lowercase(),
        )),
        "upper" => Ok(Value::String(
            s(a.first().ok_or("upper() takes 1 argument")?)?.to_uppercase(),
        )),
        "title" => {
            let t = s(a.first().ok_or("title() takes 1 argument")?)?;
            let mut out = String::new();
            let mut start = true;
            for c in t.chars() {
                out.extend(if start {
                    c.to_uppercase().collect::<Vec<_>>()
                } else {
                    vec![c]
                });
                // Go's strings.Title: letters, digits and '_' do not start a word.
                start = !(c.is_alphanumeric() || c == '_');
            }
            Ok(Value::String(out))
        }
        "trimspace" => Ok(Value::String(
            s(a.first().ok_or("trimspace() takes 1 argument")?)?
                .trim()
                .to_string(),
        )),
        "trimprefix" => {
            arity(name, a, 2)?;
            let (t, p) = (s(&a[0])?, s(&a[1])?);
            Ok(Value::String(
                t.strip_prefix(p.as_str()).unwrap_or(&t).to_string(),
            ))
        }
        "trimsuffix" => {
            arity(name, a, 2)?;
            let (t, p) = (s(&a[0])?, s(&a[1])?);
            Ok(Value::String(
                t.strip_suffix(p.as_str()).unwrap_or(&t).to_string(),
            ))
        }
        "startswith" => {
            arity(name, a, 2)?;
            Ok(Value::Bool(s(&a[0])?.starts_with(&s(&a[1])?)))
        }
        "endswith" => {
            arity(name, a, 2)?;
            Ok(Value::Bool(s(&a[0])?.ends_with(&s(&a[1])?)))
        }
        "contains" => {
            arity(name, a, 2)?;
            Ok(Value::Bool(list(&a[0])?.contains(&a[1])))
        }
        "range" => {
            let (start, end) = match a.len() {
                1 => (0.0, n(&a[0])?),
                2 | 3 => (n(&a[0])?, n(&a[1])?),
                _ => return Err("range() takes 1 to 3 arguments".into()),
            };
            // Without a step, a range counts down when it ends below its start.
            let step = match a.get(2) {
                Some(x) => n(x)?,
                None if end < start => -1.0,
                None => 1.0,
            };
            if step == 0.0 {
                return Err("step must not be zero".into());
            }
            if step < 0.0 && end > start {
                return Err("end must be less than start when step is negative".into());
            }
            if step > 0.0 && end < start {
                return Err("end must be greater than start when step is positive".into());
            }
            let mut out = Vec::new();
            let mut x = start;
            while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
                out.push(Value::Number(x));
                x += step;
                if out.len() > 1_048_576 {
                    return Err("more than 1048576 elements".into());
                }
            }
            Ok(Value::List(out))
        }
        "zipmap" => {
            arity(name, a, 2)?;
            let (k, v) = (list(&a[0])?, list(&a[1])?);
            if k.len() != v.len() {
                return Err("the keys and values lists must have the same length".into());
            }
            Ok(Value::Map(
                k.iter()
                    .zip(v)
                    .map(|(k, v)| Ok((s(k)?, v.clone())))
                    .collect::<Result<_, String>>()?,
            ))
        }
        "flatten" => {
            arity(name, a, 1)?;
            fn flat(v: &Value, out: &mut Vec<Value>) -> bool {
                match v {
                    Value::List(l) => l.iter().all(|x| flat(x, out)),
                    Value::Unknown => false,
                    o => {
                        out.push(o.clone());
                        true
                    }
                }
            }
            let mut out = Vec::new();
            for item in list(&a[0])? {
                if !flat(item, &mut out) {
                    return Ok(Value::Unknown);
                }
            }
            Ok(Value::List(out))
        }
        "distinct" => {
            arity(name, a, 1)?;
            let mut out: Vec<Value> = Vec::new();
            for v in list(&a[0])? {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Ok(Value::List(out))
        }
        "toset" => {
            arity(name, a, 1)?;
            Ok(Value::List(set_of(unify(list(&a[0])?.clone()))))
        }
        "tolist" => {
            arity(name, a, 1)?;
            list(&a[0]).map(|l| Value::List(unify(l.clone())))
        }
        "tomap" => {
            arity(name, a, 1)?;
            let m = map(&a[0])?;
            let values = unify(m.values().cloned().collect());
            Ok(Value::Map(m.keys().cloned().zip(values).collect()))
        }
        "tostring" => {
            arity(name, a, 1)?;
            if a[0].is_null() {
                return Ok(Value::Null);
            }
            s(&a[0]).map(Value::String)
        }
        "tonumber" => {
            arity(name, a, 1)?;
            if a[0].is_null() {
                return Ok(Value::Null);
            }
            n(&a[0]).map(Value::Number)
        }
        "tobool" => {
            arity(name, a, 1)?;
            match &a[0] {
                Value::Null => Ok(Value::Null),
                Value::Bool(b) => Ok(Value::Bool(*b)),
                Value::String(t) if t == "true" || t == "false" => Ok(Value::Bool(t == "true")),
                o => Err(format!("cannot convert {} to bool", o.type_name())),
            }
        }
        "max" | "min" => {
            let nums: Vec<f64> = a.iter().map(n).collect::<Result<_, _>>()?;
            let f = if name == "max" { f64::max } else { f64::min };
            nums.into_iter()
                .reduce(f)
                .map(Value::Number)
                .ok_or_else(|| format!("{name}() needs at least one number"))
        }
        "abs" => Ok(Value::Number(
            n(a.first().ok_or("abs() takes 1 argument")?)?.abs(),
        )),
        "ceil" => Ok(Value::Number(
            n(a.first().ok_or("ceil() takes 1 argument")?)?.ceil(),
        )),
        "floor" => Ok(Value::Number(
            n(a.first().ok_or("floor() takes 1 argument")?)?.floor(),
        )),
        "slice" => {
            arity(name, a, 3)?;
            let l = list(&a[0])?;
            let (from, to) = (n(&a[1])? as usize, n(&a[2])? as usize);
            if from > to || to > l.len() {
                return Err(format!(
                    "invalid slice [{from}:{to}] of a list of {}",
                    l.len()
                ));
            }
            Ok(Value::List(l[from..to].to_vec()))
        }
        "reverse" => {
            arity(name, a, 1)?;
            Ok(Value::List(list(&a[0])?.iter().rev().cloned().collect()))
        }
        "sort" => {
            arity(name, a, 1)?;
            let mut items: Vec<String> = list(&a[0])?.iter().map(s).collect::<Result<_, _>>()?;
            items.sort();
            Ok(Value::List(items.into_iter().map(Value::String).collect()))
        }
        "one" => {
            arity(name, a, 1)?;
            let l = list(&a[0])?;
            match l.len() {
                0 => Ok(Value::Null),
                1 => Ok(l[0].clone()),
                k => Err(format!("must be a list of zero or one elements, got {k}")),
            }
        }
        "alltrue" | "anytrue" => {
            arity(name, a, 1)?;
            let truth = |v: &Value| match v {
                Value::Bool(b) => Ok(*b),
                Value::String(t) if t == "true" || t == "false" => Ok(t == "true"),
                o => Err(format!(
                    "{name}() takes a list of bools, got {}",
                    o.type_name()
                )),
            };
            let items: Vec<bool> = list(&a[0])?.iter().map(truth).collect::<Result<_, _>>()?;
            Ok(Value::Bool(if name == "alltrue" {
                items.iter().all(|b| *b)
            } else {
                items.iter().any(|b| *b)
            }))
        }
        "file" => {
            arity(name, a, 1)?;
            let p = module_dir.join(s(&a[0])?);
            std::fs::read_to_string(&p)
                .map(Value::String)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))
        }
        "fileexists" => {
            arity(name, a, 1)?;
            let p = module_dir.join(s(&a[0])?);
            if p.is_dir() {
                return Err(format!("{:?} is a directory, not a file", s(&a[0])?));
            }
            Ok(Value::Bool(p.is_file()))
        }
        "basename" => Ok(Value::String(
            Path::new(&s(a.first().ok_or("basename() takes 1 argument")?)?)
                .file_name()
                .map(|x| x.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )),
        "dirname" => Ok(Value::String(
            Path::new(&s(a.first().ok_or("dirname() takes 1 argument")?)?)
                .parent()
                .map(|x| x.display().to_string())
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| ".".into()),
        )),
        "rsadecrypt" => {
            arity(name, a, 2)?;
            Ok(Value::String(rsa::rsadecrypt(&s(&a[0])?, &s(&a[1])?)?))
        }
        "cidrsubnets" => {
            let (prefix, bits) = a.split_first().ok_or("cidrsubnets() needs a prefix")?;
            let bits: Vec<f64> = bits.iter().map(n).collect::<Result<_, _>>()?;
            cidrsubnets(&s(prefix)?, &bits)
        }
        other => text::call(other, a)
            .or_else(|| time::call(other, a))
            .or_else(|| collections::call(other, a))
            .or_else(|| encode::call(other, a, module_dir))
            .or_else(|| yaml::call(other, a))
            .or_else(|| files::call(other, a, module_dir))
            .or_else(|| terraform::call(other, a))
            .unwrap_or_else(|| Err(unknown_fn(other))),
    }
}

fn known(name: &str) -> bool {
    [
        KNOWN,
        text::NAMES,
        time::NAMES,
        collections::NAMES,
        encode::NAMES,
        yaml::NAMES,
        files::NAMES,
        terraform::NAMES,
    ]
    .iter()
    .any(|names| names.contains(&name))
}

const KNOWN: &[&str] = &[
    "length",
    "merge",
    "concat",
    "lookup",
    "element",
    "format",
    "formatlist",
    "join",
    "split",
    "keys",
    "values",
    "coalesce",
    "coalescelist",
    "compact",
    "cidrsubnet",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnets",
    "rsadecrypt",
    "jsonencode",
    "jsondecode",
    "sha256",
    "base64encode",
    "base64decode",
    "substr",
    "replace",
    "lower",
    "upper",
    "title",
    "trimspace",
    "trimprefix",
    "trimsuffix",
    "startswith",
    "endswith",
    "contains",
    "range",
    "zipmap",
    "flatten",
    "distinct",
    "toset",
    "tolist",
    "tomap",
    "tostring",
    "tonumber",
    "tobool",
    "max",
    "min",
    "abs",
    "ceil",
    "floor",
    "slice",
    "reverse",
    "sort",
    "one",
    "alltrue",
    "anytrue",
    "file",
    "fileexists",
    "basename",
    "dirname",
];

/// JSON as Go's encoder writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped.
fn json_html_safe(j: &str) -> String {
    let mut out = String::with_capacity(j.len());
    for c in j.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn unknown_fn(name: &str) -> String {
    format!("There is no function named {name:?}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, args: Vec<Value>) -> Value {
        call(name, args, Path::new(".")).unwrap()
    }

    #[test]
    fn cidr_functions_match_terraform() {
        assert_eq!(
            c(
                "cidrsubnet",
                vec!["10.0.0.0/16".into(), 8i64.into(), 1i64.into()]
            ),
            Value::from("10.0.1.0/24")
        );
        assert_eq!(
            c(
                "cidrsubnet",
                vec!["172.16.0.0/12".into(), 4i64.into(), 2i64.into()]
            ),
            Value::from("172.18.0.0/16")
        );
        assert_eq!(
            c(
                "cidrsubnet",
                vec![
                    "fd00:fd12:3456:7890::/56".into(),
                    16i64.into(),
                    162i64.into()
                ]
            ),
            Value::from("fd00:fd12:3456:7800:a200::/72")
        );
        assert_eq!(
            c("cidrhost", vec!["10.12.112.0/20".into(), 16i64.into()]),
            Value::from("10.12.112.16")
        );
        assert!(call(
            "cidrsubnet",
            vec!["10.0.0.0/16".into(), 2i64.into(), 4i64.into()],
            Path::new(".")
        )
        .is_err());
    }

    #[test]
    fn format_and_strings() {
        assert_eq!(
            c("format", vec!["%s-%03d".into(), "web".into(), 7i64.into()]),
            Value::from("web-007")
        );
        assert_eq!(
            c("format", vec!["%.2f%%".into(), 1.5.into()]),
            Value::from("1.50%")
        );
        assert_eq!(
            c("substr", vec!["hello".into(), 1i64.into(), 3i64.into()]),
            Value::from("ell")
        );
        assert_eq!(
            c(
                "base64decode",
                vec![c("base64encode", vec!["hi there".into()])]
            ),
            Value::from("hi there")
        );
        assert_eq!(
            c("sha256", vec!["feature/login".into()])
                .as_str()
                .unwrap()
                .len(),
            64
        );
    }

    #[test]
    fn unknown_propagates_but_length_of_partial_list_is_known() {
        assert_eq!(c("upper", vec![Value::Unknown]), Value::Unknown);
        assert_eq!(
            c(
                "length",
                vec![Value::List(vec![Value::Unknown, Value::Null])]
            ),
            Value::from(2i64)
        );
        assert!(call("nosuch", vec![Value::Unknown], Path::new(".")).is_err());
    }

    #[test]
    fn collections() {
        let l = Value::List(vec!["b".into(), "a".into(), "b".into()]);
        assert_eq!(
            c("toset", vec![l.clone()]),
            Value::List(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            c("distinct", vec![l]),
            Value::List(vec!["b".into(), "a".into()])
        );
        assert_eq!(
            c(
                "zipmap",
                vec![
                    Value::List(vec!["k".into()]),
                    Value::List(vec![1i64.into()])
                ]
            ),
            Value::map([("k", Value::from(1i64))])
        );
        assert_eq!(c("range", vec![3i64.into()]).as_list().unwrap().len(), 3);
    }
}
