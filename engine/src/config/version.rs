//! `terraform { required_version = "..." }`: Terraform's version constraints (those of
//! hashicorp/go-version: `>= 1.3, < 2.0`, `~> 1.5`, `= 1.5.7`, `!= 1.4.0`), checked against the
//! Terraform version whose language Terrane speaks ([`TERRAFORM_LANGUAGE_VERSION`]).

use std::cmp::Ordering;
use std::fmt;

/// The Terraform version Terrane answers for: a configuration's `required_version` is checked
/// against it, and a state Terrane writes in Terraform's format claims it (Terraform refuses a
/// state from a newer version than itself, so it is not a recent one).
pub const TERRAFORM_LANGUAGE_VERSION: &str = "1.5.0";

/// A version: numeric segments and an optional pre-release (`1.6.0-beta1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    segments: Vec<u64>,
    pre: Option<String>,
}

impl Version {
    pub fn parse(s: &str) -> Result<Version, String> {
        let s = s.trim();
        let s = s.strip_prefix('v').unwrap_or(s);
        // Build metadata (`+abc`) does not take part in comparisons.
        let s = s.split_once('+').map_or(s, |(v, _)| v);
        let (nums, pre) = match s.split_once('-') {
            Some((n, p)) if !p.is_empty() => (n, Some(p.to_string())),
            Some(_) => return Err(format!("{s:?} is not a version")),
            None => (s, None),
        };
        let segments = nums
            .split('.')
            .map(|p| {
                p.parse::<u64>()
                    .map_err(|_| format!("{s:?} is not a version"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if segments.is_empty() || segments.len() > 3 {
            return Err(format!("{s:?} is not a version"));
        }
        Ok(Version { segments, pre })
    }

    fn segment(&self, i: usize) -> u64 {
        self.segments.get(i).copied().unwrap_or(0)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (0..3)
            .map(|i| self.segment(i).cmp(&other.segment(i)))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nums: Vec<String> = self.segments.iter().map(u64::to_string).collect();
        write!(f, "{}", nums.join("."))?;
        if let Some(p) = &self.pre {
            write!(f, "-{p}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    /// `~>`: at least this version, and only its last given segment may grow.
    Pessimistic,
}

/// One or more constraints, all of which must hold.
#[derive(Debug, Clone)]
pub struct Constraints(Vec<(Op, Version)>);

impl Constraints {
    pub fn parse(s: &str) -> Result<Constraints, String> {
        let mut out = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            let (op, rest) = [
                ("~>", Op::Pessimistic),
                (">=", Op::Ge),
                ("<=", Op::Le),
                ("!=", Op::Ne),
                (">", Op::Gt),
                ("<", Op::Lt),
                ("=", Op::Eq),
            ]
            .into_iter()
            .find_map(|(p, op)| part.strip_prefix(p).map(|r| (op, r)))
            .unwrap_or((Op::Eq, part));
            if rest.trim().is_empty() {
                return Err(format!("{part:?} names no version"));
            }
            out.push((op, Version::parse(rest)?));
        }
        Ok(Constraints(out))
    }

    pub fn allows(&self, v: &Version) -> bool {
        self.0.iter().all(|(op, c)| match op {
            Op::Eq => v.cmp(c).is_eq(),
            Op::Ne => v.cmp(c).is_ne(),
            Op::Gt => v > c,
            Op::Ge => v >= c,
            Op::Lt => v < c,
            Op::Le => v <= c,
            Op::Pessimistic => {
                // `~> 1.2` is `>= 1.2, < 2.0`; `~> 1.2.3` is `>= 1.2.3, < 1.3.0`; `~> 1` is `>= 1`.
                let fixed = c.segments.len() - 1;
                v >= c && (0..fixed).all(|i| v.segment(i) == c.segment(i))
            }
        })
    }
}

/// Whether Terrane's [`TERRAFORM_LANGUAGE_VERSION`] meets `constraint`; `Err` for a constraint
/// that does not parse.
pub fn check_required_version(constraint: &str) -> Result<bool, String> {
    let ours = Version::parse(TERRAFORM_LANGUAGE_VERSION).expect("the constant is a version");
    Ok(Constraints::parse(constraint)?.allows(&ours))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(c: &str, v: &str) -> bool {
        Constraints::parse(c)
            .unwrap()
            .allows(&Version::parse(v).unwrap())
    }

    #[test]
    fn constraints_as_go_version_reads_them() {
        assert!(allows(">= 1.3", "1.5.0"));
        assert!(allows(">= 1.3, < 2.0", "1.5.0"));
        assert!(!allows(">= 1.6", "1.5.0"));
        assert!(allows("1.5.0", "1.5.0"));
        assert!(allows("= 1.5", "1.5.0"));
        assert!(!allows("!= 1.5.0", "1.5.0"));
        assert!(allows("> 1.4.9", "1.5.0"));
        assert!(allows("<= 1.5.0", "1.5.0"));
        assert!(!allows("< 1.5.0", "1.5.0"));
        assert!(allows("v1.5.0", "1.5.0"));
        // Pessimistic: only the last given segment may grow.
        assert!(allows("~> 1.2", "1.5.0"));
        assert!(!allows("~> 1.2", "2.0.0"));
        assert!(allows("~> 1.5.0", "1.5.7"));
        assert!(!allows("~> 1.4.0", "1.5.0"));
        assert!(!allows("~> 1.5.1", "1.5.0"));
        assert!(allows("~> 1", "1.5.0"));
        assert!(allows("~> 1", "2.0.0"));
        // A pre-release comes before its release.
        assert!(allows(">= 1.5.0-beta1", "1.5.0"));
        assert!(!allows(">= 1.5.0", "1.5.0-rc1"));
    }

    #[test]
    fn bad_constraints_say_what_is_wrong() {
        assert_eq!(
            Constraints::parse(">= one").unwrap_err(),
            "\"one\" is not a version"
        );
        assert_eq!(
            Constraints::parse(">=").unwrap_err(),
            "\">=\" names no version"
        );
        assert!(Constraints::parse("1.2.3.4").is_err());
    }

    #[test]
    fn terrane_answers_for_its_language_version() {
        assert_eq!(check_required_version(">= 1.0"), Ok(true));
        assert_eq!(check_required_version("~> 1.5"), Ok(true));
        assert_eq!(check_required_version(">= 1.9"), Ok(false));
    }
}
