//! Per-branch environments: one workspace per git branch, named as the seed pipelines name
//! them (`<prefix>-<first 8 hex of sha256(branch)>`, the production branch `<prefix>-<branch>`),
//! with the rules of `environments.hcl` beside the root module and the expiry kept in the
//! workspace's metadata. A branch name never reaches a cloud name raw.
//!
//! `environments.hcl` (every line optional):
//!
//! ```hcl
//! prefix            = "automation"
//! production_branch = "master"
//! branches          = ["dev/feature*", "dev/fix*"]   # which branches get an environment
//! ttl               = "72h"                         # inactivity: renewed by every env up
//! max_age           = "336h"                        # from creation
//! protected         = ["automation-master"]         # env down refuses them
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use terrane_core::{Diagnostic, Diagnostics, Value};

/// The file of rules beside the root module.
pub const RULES_FILE: &str = "environments.hcl";

/// The tags every taggable object of an environment carries.
pub const ENV_TAG: &str = "terrane:env";
pub const BRANCH_TAG: &str = "terrane:branch";
pub const EXPIRES_TAG: &str = "terrane:expires-at";
pub const MANAGED_TAG: &str = "terrane:managed-by";

/// The longest environment name: AWS load balancer and target group names take 32
/// characters, and an environment's name is the stem of its objects' names.
pub const MAX_NAME: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub prefix: String,
    pub production_branch: Option<String>,
    /// Globs (`*`); empty: every branch gets an environment.
    pub branches: Vec<String>,
    pub ttl: Option<Duration>,
    pub max_age: Option<Duration>,
    pub protected: Vec<String>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            prefix: "automation".into(),
            production_branch: None,
            branches: Vec::new(),
            ttl: None,
            max_age: None,
            protected: Vec::new(),
        }
    }
}

/// First 8 hex digits of sha256(`branch`), as the seed's pipelines compute it.
pub fn sha8(branch: &str) -> String {
    hex::encode(Sha256::digest(branch.as_bytes()))[..8].to_string()
}

/// `*` matches any run of characters.
fn glob(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, rest)) => {
            let Some(tail) = s.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

/// A name part fit for cloud names: lowercase letters, digits and `-`.
fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').to_string()
}

impl Rules {
    /// The rules of `dir/environments.hcl`, or the defaults when there is none.
    pub fn load(dir: &Path) -> Result<Rules, Diagnostics> {
        let path = dir.join(RULES_FILE);
        if !path.exists() {
            return Ok(Rules::default());
        }
        let values = crate::config::load_var_file_values(&path)?;
        let bad = |k: &str, what: &str| {
            Diagnostics::from(Diagnostic::error(
                "Invalid environment rules",
                format!("{}: {k} must be {what}.", path.display()),
            ))
        };
        let mut r = Rules::default();
        for (k, v) in values {
            let text = |v: &Value| v.as_str().map(String::from);
            let list = |v: &Value| -> Option<Vec<String>> {
                v.as_list()?
                    .iter()
                    .map(|x| x.as_str().map(String::from))
                    .collect()
            };
            let duration = |v: &Value| {
                v.as_str()
                    .and_then(|s| terrane_core::units::parse_duration(s).ok())
            };
            match k.as_str() {
                "prefix" => r.prefix = text(&v).ok_or_else(|| bad(&k, "a string"))?,
                "production_branch" => {
                    r.production_branch = Some(text(&v).ok_or_else(|| bad(&k, "a string"))?)
                }
                "branches" => r.branches = list(&v).ok_or_else(|| bad(&k, "a list of globs"))?,
                "protected" => r.protected = list(&v).ok_or_else(|| bad(&k, "a list of names"))?,
                "ttl" => r.ttl = Some(duration(&v).ok_or_else(|| bad(&k, "a duration such as \"72h\""))?),
                "max_age" => {
                    r.max_age = Some(duration(&v).ok_or_else(|| bad(&k, "a duration such as \"336h\""))?)
                }
                other => {
                    return Err(Diagnostics::from(Diagnostic::error(
                        "Invalid environment rules",
                        format!(
                            "{}: unknown setting {other:?} (prefix, production_branch, branches, ttl, max_age, protected).",
                            path.display()
                        ),
                    )))
                }
            }
        }
        Ok(r)
    }

    /// The environment of `branch`, or why it gets none.
    pub fn name(&self, branch: &str) -> Result<String, String> {
        if branch.trim().is_empty() {
            return Err("the branch name is empty".into());
        }
        let prefix = sanitize(&self.prefix);
        if prefix.is_empty() || prefix != self.prefix {
            return Err(format!(
                "prefix {:?} must be lowercase letters, digits and -",
                self.prefix
            ));
        }
        let name = if self.production_branch.as_deref() == Some(branch) {
            format!("{prefix}-{}", sanitize(branch))
        } else {
            if !self.branches.is_empty() && !self.branches.iter().any(|p| glob(p, branch)) {
                return Err(format!(
                    "branch {branch:?} gets no environment: it matches none of {}",
                    self.branches.join(", ")
                ));
            }
            format!("{prefix}-{}", sha8(branch))
        };
        if name.len() > MAX_NAME {
            return Err(format!(
                "environment name {name:?} is {} characters; AWS load balancer and target group names take {MAX_NAME}: use a shorter prefix",
                name.len()
            ));
        }
        Ok(name)
    }

    pub fn is_protected(&self, name: &str) -> bool {
        self.protected.iter().any(|p| glob(p, name))
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: i64) -> String {
    terrane_state::format_rfc3339(secs)
}

/// Seconds since the epoch: the clock, which `TERRANE_NOW` (RFC 3339 or seconds) sets for tests.
pub fn now() -> i64 {
    if let Some(t) = std::env::var("TERRANE_NOW").ok().filter(|s| !s.is_empty()) {
        if let Ok(secs) = t.parse::<i64>() {
            return secs;
        }
        if let Some(secs) = parse_rfc3339(&t) {
            return secs;
        }
    }
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// An RFC 3339 time (`YYYY-MM-DDTHH:MM:SSZ`) as seconds since the epoch.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let t = terrane_core::time::parse_rfc3339(s)?;
    Some(match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    })
}

/// What `env up` keeps in the workspace's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvMeta {
    pub branch: String,
    pub created: i64,
    pub last_up: i64,
    /// Inactivity TTL, seconds (renewed by every `env up`).
    pub ttl: Option<i64>,
    /// Maximum age from creation, seconds.
    pub max_age: Option<i64>,
}

impl EnvMeta {
    pub fn from_metadata(m: &BTreeMap<String, String>) -> Option<EnvMeta> {
        let num = |k: &str| m.get(k).and_then(|v| v.parse::<i64>().ok());
        Some(EnvMeta {
            branch: m.get("env.branch")?.clone(),
            created: num("env.created")?,
            last_up: num("env.last_up")?,
            ttl: num("env.ttl"),
            max_age: num("env.max_age"),
        })
    }

    pub fn to_metadata(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("env.branch".to_string(), self.branch.clone()),
            ("env.created".to_string(), self.created.to_string()),
            ("env.last_up".to_string(), self.last_up.to_string()),
        ];
        if let Some(t) = self.ttl {
            v.push(("env.ttl".into(), t.to_string()));
        }
        if let Some(a) = self.max_age {
            v.push(("env.max_age".into(), a.to_string()));
        }
        v
    }

    /// When the environment expires: the earlier of its inactivity TTL from the last `env up`
    /// and its maximum age from creation; None if neither is set.
    pub fn expires_at(&self) -> Option<i64> {
        let by_ttl = self.ttl.map(|t| self.last_up + t);
        let by_age = self.max_age.map(|a| self.created + a);
        match (by_ttl, by_age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The `terrane:expires-at` tag: fixed at creation (the maximum age, or the first TTL), so
    /// that renewing the TTL does not retag every object.
    pub fn tag_expiry(&self) -> Option<i64> {
        self.max_age.or(self.ttl).map(|a| self.created + a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_seed_and_never_carry_the_branch_raw() {
        let r = Rules {
            production_branch: Some("master".into()),
            ..Default::default()
        };
        // sha256("dev/feature-login") starts with these 8 hex digits.
        let want = format!("automation-{}", sha8("dev/feature-login"));
        assert_eq!(r.name("dev/feature-login").unwrap(), want);
        assert_eq!(want.len(), "automation-".len() + 8);
        assert_eq!(r.name("master").unwrap(), "automation-master");
        assert_eq!(
            sha8("master"),
            hex::encode(Sha256::digest(b"master"))[..8].to_string()
        );
        assert!(r.name("").is_err());
    }

    #[test]
    fn branch_patterns_prefixes_and_lengths_are_checked() {
        let r = Rules {
            branches: vec!["dev/feature*".into(), "dev/fix*".into()],
            ..Default::default()
        };
        assert!(r.name("dev/feature-x").is_ok());
        assert!(r.name("dev/fix-1").is_ok());
        let e = r.name("hotfix/x").unwrap_err();
        assert!(e.contains("matches none of dev/feature*, dev/fix*"), "{e}");
        let long = Rules {
            prefix: "a-very-long-team-prefix-x".into(),
            ..Default::default()
        };
        let e = long.name("dev/feature-x").unwrap_err();
        assert!(e.contains("34 characters"), "{e}");
        let bad = Rules {
            prefix: "Team_A".into(),
            ..Default::default()
        };
        assert!(bad.name("x").unwrap_err().contains("lowercase"));
        let prod = Rules {
            production_branch: Some("Release/2026.12".into()),
            ..Default::default()
        };
        assert_eq!(
            prod.name("Release/2026.12").unwrap(),
            "automation-release-2026-12"
        );
    }

    #[test]
    fn expiry_is_the_earlier_of_ttl_and_max_age() {
        let m = EnvMeta {
            branch: "b".into(),
            created: 1_000,
            last_up: 5_000,
            ttl: Some(100),
            max_age: Some(10_000),
        };
        assert_eq!(m.expires_at(), Some(5_100));
        assert_eq!(m.tag_expiry(), Some(11_000));
        let back = EnvMeta::from_metadata(&m.to_metadata().into_iter().collect()).unwrap();
        assert_eq!(back, m);
        assert_eq!(parse_rfc3339("2026-12-02T20:00:00Z"), Some(1_796_241_600));
        assert_eq!(
            terrane_state::format_rfc3339(parse_rfc3339("2024-02-29T23:59:59Z").unwrap()),
            "2024-02-29T23:59:59Z"
        );
    }
}
