//! Paths: `abspath`, `pathexpand` and `fileset` (glob patterns with `*`, `**`, `?`, `[...]` and
//! `{a,b}`, as Terraform's doublestar matching); `fileset` reads relative to the module.

use std::path::Path;

use terrane_core::Value;

use super::{arity, s, R};

/// `Some(result)` for the functions of this file, `None` for any other name.
pub(super) fn call(name: &str, a: &[Value], module_dir: &Path) -> Option<R> {
    Some(match name {
        "abspath" => arity(name, a, 1).and_then(|()| {
            let p = Path::new(&s(&a[0])?).to_path_buf();
            let abs = if p.is_absolute() {
                p
            } else {
                std::env::current_dir().map_err(|e| e.to_string())?.join(p)
            };
            Ok(Value::String(abs.display().to_string()))
        }),
        "pathexpand" => arity(name, a, 1).and_then(|()| {
            let p = s(&a[0])?;
            let home = || std::env::var("HOME").map_err(|_| "HOME is not set".to_string());
            Ok(Value::String(if p == "~" {
                home()?
            } else if let Some(rest) = p.strip_prefix("~/") {
                format!("{}/{rest}", home()?)
            } else {
                p
            }))
        }),
        "fileset" => arity(name, a, 2).and_then(|()| fileset(module_dir, &s(&a[0])?, &s(&a[1])?)),
        _ => return None,
    })
}

pub(super) const NAMES: &[&str] = &["abspath", "pathexpand", "fileset"];

fn fileset(module_dir: &Path, base: &str, pattern: &str) -> R {
    let root = module_dir.join(base);
    let patterns = braces(pattern);
    for p in &patterns {
        check_pattern(p)?;
    }
    let mut found = Vec::new();
    walk(&root, "", &mut |rel| {
        if patterns.iter().any(|p| glob(p.as_bytes(), rel.as_bytes())) {
            found.push(rel.to_string());
        }
    })
    .map_err(|e| format!("failed to glob pattern {pattern:?}: {e}"))?;
    found.sort();
    found.dedup();
    Ok(Value::List(found.into_iter().map(Value::String).collect()))
}

/// Every file under `dir`, as paths relative to the walk's root with `/` separators.
fn walk(dir: &Path, prefix: &str, f: &mut dyn FnMut(&str)) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut names: Vec<_> = entries.filter_map(Result::ok).collect();
    names.sort_by_key(|e| e.file_name());
    for e in names {
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let path = e.path();
        if path.is_dir() {
            walk(&path, &rel, f)?;
        } else {
            f(&rel);
        }
    }
    Ok(())
}

/// A pattern's `{a,b}` alternatives expanded.
fn braces(p: &str) -> Vec<String> {
    let b = p.as_bytes();
    let Some(open) = b.iter().position(|&c| c == b'{') else {
        return vec![p.to_string()];
    };
    let mut depth = 0;
    let mut parts = Vec::new();
    let mut start = open + 1;
    for i in open..b.len() {
        match b[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    parts.push(&p[start..i]);
                    let (head, tail) = (&p[..open], &p[i + 1..]);
                    return parts
                        .into_iter()
                        .flat_map(|alt| braces(&format!("{head}{alt}{tail}")))
                        .collect();
                }
            }
            b',' if depth == 1 => {
                parts.push(&p[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    vec![p.to_string()]
}

fn check_pattern(p: &str) -> Result<(), String> {
    let mut depth = 0;
    for c in p.chars() {
        match c {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!(
            "failed to glob pattern {p:?}: syntax error in pattern"
        ));
    }
    Ok(())
}

/// Glob matching: `**` crosses directories, `*` and `?` do not.
fn glob(p: &[u8], t: &[u8]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some(b'*') if p.get(1) == Some(&b'*') => {
            let rest = &p[2..];
            // `**/` may match no directory at all.
            if let Some(after) = rest.strip_prefix(b"/") {
                if glob(after, t) {
                    return true;
                }
            }
            (0..=t.len()).any(|i| glob(rest, &t[i..]))
        }
        Some(b'*') => {
            let rest = &p[1..];
            for i in 0..=t.len() {
                if glob(rest, &t[i..]) {
                    return true;
                }
                if i < t.len() && t[i] == b'/' {
                    break;
                }
            }
            false
        }
        Some(b'?') => !t.is_empty() && t[0] != b'/' && glob(&p[1..], &t[1..]),
        Some(b'[') => {
            let Some(close) = p.iter().skip(1).position(|&c| c == b']').map(|i| i + 1) else {
                return false;
            };
            let Some(&c) = t.first() else {
                return false;
            };
            let mut class = &p[1..close];
            let negate = matches!(class.first(), Some(b'!') | Some(b'^'));
            if negate {
                class = &class[1..];
            }
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    hit |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != negate && c != b'/' && glob(&p[close + 1..], &t[1..])
        }
        Some(b'\\') if p.len() > 1 => t.first() == Some(&p[1]) && glob(&p[2..], &t[1..]),
        Some(&c) => t.first() == Some(&c) && glob(&p[1..], &t[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fileset_matches_as_terraform_does() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["hello.txt", "world.txt", "a/b/c.txt", "a/d.tmpl", "x.json"] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let set = |pat: &str| {
            let v = fileset(dir.path(), ".", pat).unwrap();
            v.as_list()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(set("*.txt"), ["hello.txt", "world.txt"]);
        assert_eq!(set("**/*.txt"), ["a/b/c.txt", "hello.txt", "world.txt"]);
        assert_eq!(set("{*.json,a/*}"), ["a/d.tmpl", "x.json"]);
        assert_eq!(set("h?llo.[st]xt"), ["hello.txt"]);
        assert_eq!(set("nothing/*"), Vec::<String>::new());
    }
}
