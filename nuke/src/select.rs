//! What a nuke selects: the environment tag, tags, names, types, ages. Every criterion that is
//! set must hold (AND); an object tagged with the keep tag and an account's default objects are
//! never selected. A selection is stored in the plan file as written, and compiled again when
//! the plan is applied, so that each object is re-checked against the same rules.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use terrane_core::{DiscoverFilter, DiscoveredObject, NameMatch};

use crate::NukeError;
use terrane_core::time::parse_rfc3339;

/// The tag Terrane's environments put on every object (until `terrane env` sets it, any key can
/// be named with `--env-tag`).
pub const DEFAULT_ENV_TAG: &str = "terrane:env";
/// Objects with this tag set to `"true"` are never deleted.
pub const DEFAULT_KEEP_TAG: &str = "terrane:keep";
/// Objects with this tag set to `"true"` mark their environment as protected: a nuke that
/// selects one refuses to delete anything.
pub const PROTECTED_TAG: &str = "terrane:protected";

/// A selection as the user wrote it (flags or a filter file).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Selection {
    /// The environment: objects whose `env_tag` is this.
    pub env: Option<String>,
    /// The tag key that names an object's environment.
    pub env_tag: Option<String>,
    /// Tags that must all be present with these values.
    pub tags: BTreeMap<String, String>,
    pub name_prefix: Option<String>,
    /// A regular expression the object's name must match.
    pub name_regex: Option<String>,
    /// Tag key -> regular expression its value must match.
    pub tag_regex: BTreeMap<String, String>,
    /// Types to include (globs: `aws_iam_*`); all types when empty.
    pub include_types: Vec<String>,
    /// Types to leave alone (globs).
    pub exclude_types: Vec<String>,
    /// Only objects created at least this long ago (`72h`, `30m`).
    pub older_than: Option<String>,
    /// Only objects created at most this long ago.
    pub newer_than: Option<String>,
    /// The keep tag's key (`terrane:keep` by default).
    pub keep_tag: Option<String>,
}

/// Why an object is selected, or why it is kept out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every criterion holds; one line per criterion.
    Selected(Vec<String>),
    /// Kept out, with the first criterion that does not hold.
    Kept(String),
}

/// A [`Selection`] checked and ready to use: regexes compiled, globs and durations parsed.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub selection: Selection,
    env_tag: String,
    keep_tag: String,
    name_regex: Option<regex_lite::Regex>,
    tag_regex: Vec<(String, regex_lite::Regex)>,
    older_than: Option<Duration>,
    newer_than: Option<Duration>,
}

impl Selection {
    /// Checks the selection. One that would select every object of an account (no environment,
    /// tag or name) is refused.
    pub fn compile(&self) -> Result<Compiled, NukeError> {
        let bad = |what: &str, e: String| NukeError::Selection(format!("{what}: {e}"));
        let regex = |p: &str| {
            regex_lite::Regex::new(p)
                .map_err(|e| bad(&format!("invalid regex {p:?}"), e.to_string()))
        };
        let duration = |what: &str, d: &Option<String>| {
            d.as_deref()
                .map(|s| terrane_core::units::parse_duration(s).map_err(|e| bad(what, e)))
                .transpose()
        };
        let name_regex = self.name_regex.as_deref().map(regex).transpose()?;
        let tag_regex = self
            .tag_regex
            .iter()
            .map(|(k, p)| Ok((k.clone(), regex(p)?)))
            .collect::<Result<Vec<_>, NukeError>>()?;
        for g in self.include_types.iter().chain(&self.exclude_types) {
            if g.is_empty() {
                return Err(NukeError::Selection("an empty type pattern".into()));
            }
        }
        let c = Compiled {
            selection: self.clone(),
            env_tag: self
                .env_tag
                .clone()
                .unwrap_or_else(|| DEFAULT_ENV_TAG.into()),
            keep_tag: self
                .keep_tag
                .clone()
                .unwrap_or_else(|| DEFAULT_KEEP_TAG.into()),
            name_regex,
            tag_regex,
            older_than: duration("older_than", &self.older_than)?,
            newer_than: duration("newer_than", &self.newer_than)?,
        };
        if self.env.is_none()
            && self.tags.is_empty()
            && self.tag_regex.is_empty()
            && self.name_prefix.is_none()
            && self.name_regex.is_none()
        {
            return Err(NukeError::Selection(
                "nothing narrows the selection: give --env, --tag, --name-prefix or a filter with tags or names (a nuke never selects a whole account)".into(),
            ));
        }
        Ok(c)
    }
}

/// `*` matches any run of characters, `?` one character.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    fn m(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| m(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && m(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && m(rest, &t[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    m(&p, &t)
}

impl Compiled {
    pub fn env_tag(&self) -> &str {
        &self.env_tag
    }

    pub fn keep_tag(&self) -> &str {
        &self.keep_tag
    }

    /// Whether `type_name` is among the types the selection asks for.
    pub fn wants_type(&self, type_name: &str) -> bool {
        let s = &self.selection;
        (s.include_types.is_empty() || s.include_types.iter().any(|g| glob_matches(g, type_name)))
            && !s.exclude_types.iter().any(|g| glob_matches(g, type_name))
    }

    /// What to ask a provider for: the exact tags and the name prefix (the provider narrows its
    /// listing with them), and the wanted types among `types` (all of them when every type is
    /// wanted). The rest is checked here, by [`Compiled::verdict`].
    pub fn discover_filter<'a>(
        &self,
        types: impl IntoIterator<Item = &'a String>,
    ) -> DiscoverFilter {
        let s = &self.selection;
        let mut tags = s.tags.clone();
        if let Some(env) = &s.env {
            tags.insert(self.env_tag.clone(), env.clone());
        }
        let all = s.include_types.is_empty() && s.exclude_types.is_empty();
        let types: BTreeSet<String> = if all {
            BTreeSet::new()
        } else {
            types
                .into_iter()
                .filter(|t| self.wants_type(t))
                .cloned()
                .collect()
        };
        DiscoverFilter {
            tags,
            name: s.name_prefix.clone().map(NameMatch::Prefix),
            types,
        }
    }

    /// Whether the selection takes `o`, and why. Objects the cloud made itself and objects with
    /// the keep tag are always kept. An object with neither tags nor a name (an association, an
    /// attachment) is returned by a provider's discovery only when an object it points at
    /// matched, so the tag and name criteria do not apply to it.
    pub fn verdict(&self, o: &DiscoveredObject, now: SystemTime) -> Verdict {
        let s = &self.selection;
        if o.is_default {
            return Verdict::Kept("a default object of the account (never deleted)".into());
        }
        if o.tags.get(&self.keep_tag).is_some_and(|v| v == "true") {
            return Verdict::Kept(format!("tagged {} = \"true\"", self.keep_tag));
        }
        let mut why = Vec::new();
        if !self.wants_type(&o.type_name) {
            return Verdict::Kept(format!("type {} is not selected", o.type_name));
        }
        if !s.include_types.is_empty() {
            why.push(format!("type {} is included", o.type_name));
        }
        // Objects that cannot carry tags or a name (an association, an attachment) are
        // returned by discovery only when an object they point at matched.
        let untagged = o.tags.is_empty() && o.name.is_none();
        let mut tags = s.tags.clone();
        if let Some(env) = &s.env {
            tags.insert(self.env_tag.clone(), env.clone());
        }
        for (k, v) in &tags {
            match o.tags.get(k) {
                Some(have) if have == v => why.push(format!("tag {k} = {v:?}")),
                _ if untagged => {}
                Some(have) => return Verdict::Kept(format!("tag {k} is {have:?}, not {v:?}")),
                None => return Verdict::Kept(format!("no tag {k}")),
            }
        }
        for (k, r) in &self.tag_regex {
            match o.tags.get(k) {
                Some(have) if r.is_match(have) => {
                    why.push(format!("tag {k} matches /{}/", r.as_str()))
                }
                _ if untagged => {}
                Some(have) => {
                    return Verdict::Kept(format!(
                        "tag {k} = {have:?} does not match /{}/",
                        r.as_str()
                    ))
                }
                None => return Verdict::Kept(format!("no tag {k}")),
            }
        }
        let name_checks = s.name_prefix.is_some() || self.name_regex.is_some();
        match (&o.name, name_checks) {
            (_, false) => {}
            (None, true) if untagged => {}
            (None, true) => return Verdict::Kept("it has no name to match".into()),
            (Some(n), true) => {
                if let Some(p) = &s.name_prefix {
                    if !n.starts_with(p.as_str()) {
                        return Verdict::Kept(format!("name {n:?} does not start with {p:?}"));
                    }
                    why.push(format!("name starts with {p:?}"));
                }
                if let Some(r) = &self.name_regex {
                    if !r.is_match(n) {
                        return Verdict::Kept(format!(
                            "name {n:?} does not match /{}/",
                            r.as_str()
                        ));
                    }
                    why.push(format!("name matches /{}/", r.as_str()));
                }
            }
        }
        if untagged && !tags.is_empty() {
            why.push("points at a selected object (it has no tags of its own)".into());
        }
        if self.older_than.is_some() || self.newer_than.is_some() {
            let Some(created) = o.created.as_deref().and_then(parse_rfc3339) else {
                return Verdict::Kept("its creation time is unknown (an age filter is set)".into());
            };
            let age = now.duration_since(created).unwrap_or_default();
            if let Some(min) = self.older_than {
                if age < min {
                    return Verdict::Kept(format!(
                        "created {} ago, not older than {}",
                        terrane_core::time::human(age),
                        s.older_than.as_deref().unwrap_or_default()
                    ));
                }
                why.push(format!(
                    "older than {}",
                    s.older_than.as_deref().unwrap_or_default()
                ));
            }
            if let Some(max) = self.newer_than {
                if age > max {
                    return Verdict::Kept(format!(
                        "created {} ago, not newer than {}",
                        terrane_core::time::human(age),
                        s.newer_than.as_deref().unwrap_or_default()
                    ));
                }
                why.push(format!(
                    "newer than {}",
                    s.newer_than.as_deref().unwrap_or_default()
                ));
            }
        }
        Verdict::Selected(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use terrane_core::FoundBy;

    fn obj(t: &str, name: &str, tags: &[(&str, &str)]) -> DiscoveredObject {
        DiscoveredObject::new(t, format!("{t}-1"), FoundBy::Tags)
            .with_name(name)
            .with_tags(
                tags.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
    }

    fn env(name: &str) -> Selection {
        Selection {
            env: Some(name.into()),
            ..Default::default()
        }
    }

    fn selected(c: &Compiled, o: &DiscoveredObject) -> bool {
        matches!(c.verdict(o, SystemTime::now()), Verdict::Selected(_))
    }

    #[test]
    fn a_selection_must_be_narrowed_and_its_patterns_valid() {
        let e = Selection::default().compile().unwrap_err().to_string();
        assert!(e.contains("never selects a whole account"), "{e}");
        let e = Selection {
            name_regex: Some("(".into()),
            ..env("a")
        }
        .compile()
        .unwrap_err()
        .to_string();
        assert!(e.contains("invalid regex \"(\""), "{e}");
        let e = Selection {
            older_than: Some("3 days".into()),
            ..env("a")
        }
        .compile()
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("invalid selection: older_than"), "{e}");
        assert!(env("a").compile().is_ok());
    }

    #[test]
    fn every_criterion_must_hold() {
        let s = Selection {
            env: Some("automation-1a2b3c4d".into()),
            tags: BTreeMap::from([("team".into(), "platform".into())]),
            name_prefix: Some("automation-".into()),
            name_regex: Some("-(vpc|subnet)$".into()),
            tag_regex: BTreeMap::from([("owner".into(), "^ci-".into())]),
            ..Default::default()
        };
        let c = s.compile().unwrap();
        let tags = [
            ("terrane:env", "automation-1a2b3c4d"),
            ("team", "platform"),
            ("owner", "ci-runner"),
        ];
        let good = obj("aws_vpc", "automation-1a2b3c4d-vpc", &tags);
        match c.verdict(&good, SystemTime::now()) {
            Verdict::Selected(why) => assert_eq!(
                why,
                [
                    "tag team = \"platform\"",
                    "tag terrane:env = \"automation-1a2b3c4d\"",
                    "tag owner matches /^ci-/",
                    "name starts with \"automation-\"",
                    "name matches /-(vpc|subnet)$/",
                ]
            ),
            v => panic!("{v:?}"),
        }
        // Each criterion alone can keep the object out.
        let kept = |o: &DiscoveredObject| match c.verdict(o, SystemTime::now()) {
            Verdict::Kept(r) => r,
            v => panic!("{v:?}"),
        };
        let other_env = [tags[0], ("team", "data"), tags[2]];
        assert_eq!(
            kept(&obj("aws_vpc", "automation-1a2b3c4d-vpc", &other_env)),
            "tag team is \"data\", not \"platform\""
        );
        assert_eq!(
            kept(&obj("aws_vpc", "automation-1a2b3c4d-lb", &tags)),
            "name \"automation-1a2b3c4d-lb\" does not match /-(vpc|subnet)$/"
        );
        let bad_owner = [tags[0], tags[1], ("owner", "alice")];
        assert_eq!(
            kept(&obj("aws_vpc", "automation-1a2b3c4d-vpc", &bad_owner)),
            "tag owner = \"alice\" does not match /^ci-/"
        );
        assert_eq!(
            kept(&obj("aws_vpc", "prod-vpc", &tags)),
            "name \"prod-vpc\" does not start with \"automation-\""
        );
        let keep = [tags[0], tags[1], tags[2], ("terrane:keep", "true")];
        assert_eq!(
            kept(&obj("aws_vpc", "automation-1a2b3c4d-vpc", &keep)),
            "tagged terrane:keep = \"true\""
        );
        let mut default = good.clone();
        default.is_default = true;
        assert!(kept(&default).starts_with("a default object"));
    }

    #[test]
    fn type_globs_include_and_exclude() {
        assert!(glob_matches("aws_iam_*", "aws_iam_role"));
        assert!(glob_matches("aws_*_policy", "aws_iam_policy"));
        assert!(glob_matches("aws_?pc", "aws_vpc"));
        assert!(!glob_matches("aws_iam_*", "aws_vpc"));
        assert!(glob_matches("*", ""));
        let c = Selection {
            include_types: vec!["aws_iam_*".into(), "aws_vpc".into()],
            exclude_types: vec!["aws_iam_role_policy*".into()],
            ..env("e")
        }
        .compile()
        .unwrap();
        assert!(c.wants_type("aws_iam_role"));
        assert!(c.wants_type("aws_vpc"));
        assert!(!c.wants_type("aws_iam_role_policy_attachment"));
        assert!(!c.wants_type("aws_subnet"));
        let all = [
            "aws_vpc",
            "aws_subnet",
            "aws_iam_role",
            "aws_iam_role_policy",
        ]
        .map(String::from);
        let f = c.discover_filter(&all);
        assert_eq!(
            f.types,
            BTreeSet::from(["aws_vpc".to_string(), "aws_iam_role".to_string()])
        );
        assert_eq!(f.tags["terrane:env"], "e");
        // Without type patterns the provider is asked for all its types.
        assert!(env("e")
            .compile()
            .unwrap()
            .discover_filter(&all)
            .types
            .is_empty());
    }

    #[test]
    fn ages_use_the_creation_time_and_an_unknown_one_keeps_the_object() {
        let c = Selection {
            older_than: Some("1h".into()),
            newer_than: Some("72h".into()),
            env_tag: Some("environment".into()),
            ..env("dev")
        }
        .compile()
        .unwrap();
        let now = parse_rfc3339("2026-12-02T12:00:00Z").unwrap();
        let at = |created: Option<&str>| {
            let mut o = obj("aws_vpc", "v", &[("environment", "dev")]);
            o.created = created.map(String::from);
            c.verdict(&o, now)
        };
        assert!(matches!(
            at(Some("2026-12-02T10:00:00Z")),
            Verdict::Selected(_)
        ));
        assert!(matches!(
            at(Some("2026-12-01T12:00:00.123+02:00")),
            Verdict::Selected(_)
        ));
        assert_eq!(
            at(Some("2026-12-02T11:30:00Z")),
            Verdict::Kept("created 30m ago, not older than 1h".into())
        );
        assert_eq!(
            at(Some("2026-11-20T12:00:00Z")),
            Verdict::Kept("created 12d ago, not newer than 72h".into())
        );
        assert_eq!(
            at(None),
            Verdict::Kept("its creation time is unknown (an age filter is set)".into())
        );
    }

    #[test]
    fn objects_without_tags_or_names_follow_what_they_point_at() {
        let c = Selection {
            name_prefix: Some("dev-".into()),
            ..env("dev")
        }
        .compile()
        .unwrap();
        let assoc = DiscoveredObject::new(
            "aws_route_table_association",
            "rtbassoc-1",
            FoundBy::Listing,
        )
        .refers_to("aws_route_table", "rtb-1");
        match c.verdict(&assoc, SystemTime::now()) {
            Verdict::Selected(why) => {
                assert_eq!(
                    why,
                    ["points at a selected object (it has no tags of its own)"]
                )
            }
            v => panic!("{v:?}"),
        }
        assert!(!selected(
            &c,
            &obj("aws_vpc", "dev-vpc", &[("terrane:env", "prod")])
        ));
    }
}
