//! The lock file (`terrane.lock.json`, next to the root module): the sha256 of every plugin
//! the configuration uses, recorded by `terrane init`. A plugin whose file no longer has the
//! recorded hash is refused until the user runs `terrane init` again.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub const LOCK_FILE: &str = "terrane.lock.json";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LockFile {
    pub version: u32,
    /// By source, as written in `required_providers` (relative to the root module).
    pub plugins: BTreeMap<String, LockedPlugin>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockedPlugin {
    /// The plugin's own version (from its metadata).
    pub version: String,
    /// The contract version it was built for.
    pub contract: String,
    pub sha256: String,
}

impl LockFile {
    /// `Ok(None)` when there is no lock file yet.
    pub fn read(dir: &Path) -> Result<Option<LockFile>, String> {
        let path = dir.join(LOCK_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("{} is not a valid lock file: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    pub fn write(&self, dir: &Path) -> Result<(), String> {
        let path = dir.join(LOCK_FILE);
        let text = serde_json::to_string_pretty(self).expect("a lock file serializes") + "\n";
        let tmp = dir.join(format!(".{LOCK_FILE}.tmp"));
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Checks a plugin file against the lock: `Err` says why it is refused and what to do.
    pub fn check(&self, source: &str, sha256: &str) -> Result<(), String> {
        match self.plugins.get(source) {
            None => Err(format!(
                "the plugin {source} is not recorded in {LOCK_FILE}; run `terrane init` to record its hash"
            )),
            Some(l) if l.sha256 != sha256 => Err(format!(
                "the plugin file {source} has changed since `terrane init` recorded it: {LOCK_FILE} has sha256 {}, the file now has sha256 {sha256}. If you trust the new file, run `terrane init` again to record it.",
                l.sha256
            )),
            Some(_) => Ok(()),
        }
    }
}

/// Whether `version` satisfies `constraint`: comma-separated `=`, `!=`, `>`, `>=`, `<`, `<=`
/// and `~>` (pessimistic: `~> 1.2` allows 1.x from 1.2, `~> 1.2.3` allows 1.2.x from 1.2.3), as
/// in Terraform. A bare version means `=`.
pub fn version_matches(constraint: &str, version: &str) -> Result<bool, String> {
    let v = parse_version(version)?;
    for part in constraint.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (op, rest) = ["~>", ">=", "<=", "!=", "=", ">", "<"]
            .iter()
            .find_map(|op| part.strip_prefix(op).map(|r| (*op, r.trim())))
            .unwrap_or(("=", part));
        let c = parse_version(rest)?;
        let ok = match op {
            "=" => v == c,
            "!=" => v != c,
            ">" => v > c,
            ">=" => v >= c,
            "<" => v < c,
            "<=" => v <= c,
            _ => {
                // ~>: at least c, and the same up to the second-to-last given component.
                let given = rest.split('.').count().max(2);
                let fixed = given - 1;
                v >= c && v[..fixed] == c[..fixed]
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn parse_version(s: &str) -> Result<[u64; 3], String> {
    let core = s.trim().split(['-', '+']).next().unwrap_or_default();
    let mut out = [0u64; 3];
    for (i, p) in core.split('.').enumerate() {
        if i >= 3 {
            return Err(format!("{s:?} is not a version"));
        }
        out[i] = p.parse().map_err(|_| format!("{s:?} is not a version"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_follow_terraform() {
        assert!(version_matches("0.1.0", "0.1.0").unwrap());
        assert!(!version_matches("0.1.0", "0.1.1").unwrap());
        assert!(version_matches(">= 0.1, < 0.3", "0.2.5").unwrap());
        assert!(!version_matches(">= 0.1, < 0.3", "0.3.0").unwrap());
        assert!(version_matches("~> 0.1", "0.9.0").unwrap());
        assert!(!version_matches("~> 0.1", "1.0.0").unwrap());
        assert!(version_matches("~> 0.1.2", "0.1.9").unwrap());
        assert!(!version_matches("~> 0.1.2", "0.2.0").unwrap());
        assert!(!version_matches("~> 0.1.2", "0.1.1").unwrap());
        assert!(version_matches("!= 0.1.0", "0.1.1").unwrap());
        assert!(version_matches(">= x", "0.1.0").is_err());
    }

    #[test]
    fn a_changed_hash_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(LockFile::read(dir.path()).unwrap(), None);
        let mut lock = LockFile {
            version: 1,
            ..Default::default()
        };
        lock.plugins.insert(
            "plugins/random.wasm".into(),
            LockedPlugin {
                version: "0.1.0".into(),
                contract: "0.1.0".into(),
                sha256: "aaaa".into(),
            },
        );
        lock.write(dir.path()).unwrap();
        let back = LockFile::read(dir.path()).unwrap().unwrap();
        assert_eq!(back, lock);
        assert!(back.check("plugins/random.wasm", "aaaa").is_ok());
        let e = back.check("plugins/random.wasm", "bbbb").unwrap_err();
        assert!(
            e.contains("has changed") && e.contains("aaaa") && e.contains("bbbb"),
            "{e}"
        );
        assert!(e.contains("terrane init"), "{e}");
        let e = back.check("plugins/other.wasm", "aaaa").unwrap_err();
        assert!(e.contains("not recorded"), "{e}");
    }
}
