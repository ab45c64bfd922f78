//! Addresses of modules, resources and resource instances (immutable values).

use std::fmt;
use std::sync::Arc;

/// Path of module calls from the root module: `module.net.module.subnets` is `["net", "subnets"]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ModulePath(pub Vec<Arc<str>>);

impl ModulePath {
    pub fn root() -> Self {
        ModulePath(Vec::new())
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
    /// The instance of module call `name` without `count` or `for_each`.
    pub fn child(&self, name: &str) -> Self {
        self.child_instance(name, &InstanceKey::None)
    }
    /// One instance of module call `name`: `module.svc["api"]` is the child `svc` with key
    /// `"api"`. A step is kept as it is written in an address (`svc`, `svc["api"]`, `svc[0]`).
    pub fn child_instance(&self, name: &str, key: &InstanceKey) -> Self {
        let mut v = self.0.clone();
        v.push(match key {
            InstanceKey::None => Arc::from(name),
            k => Arc::from(format!("{name}{k}")),
        });
        ModulePath(v)
    }
    /// The parent module instance and the last step (as written: `svc["api"]`).
    pub fn parent(&self) -> Option<(ModulePath, Arc<str>)> {
        let mut v = self.0.clone();
        let last = v.pop()?;
        Some((ModulePath(v), last))
    }
    /// The parent module instance, and the call name and instance key of the last step.
    pub fn parent_call(&self) -> Option<(ModulePath, String, InstanceKey)> {
        let (parent, step) = self.parent()?;
        let (name, key) = split_step(&step)?;
        Some((parent, name.to_string(), key))
    }
    /// `other`, a path relative to `self`, from the root.
    pub fn join(&self, other: &ModulePath) -> ModulePath {
        let mut v = self.0.clone();
        v.extend(other.0.iter().cloned());
        ModulePath(v)
    }
    /// Whether `self` is `other` or inside it (`module.a["x"].module.b` is inside `module.a["x"]`).
    pub fn starts_with(&self, other: &ModulePath) -> bool {
        self.0.len() >= other.0.len() && self.0[..other.0.len()] == other.0[..]
    }
    /// Parses `module.a["x"].module.b` (the root for the empty string).
    pub fn parse(s: &str) -> Result<ModulePath, AddrParseError> {
        let err = || AddrParseError(s.to_string());
        if s.is_empty() {
            return Ok(ModulePath::root());
        }
        let tokens = split_dots(s).ok_or_else(err)?;
        if !tokens.len().is_multiple_of(2) {
            return Err(err());
        }
        let mut path = ModulePath::root();
        for pair in tokens.chunks(2) {
            if pair[0] != "module" {
                return Err(err());
            }
            let (name, key) = split_step(pair[1]).ok_or_else(err)?;
            path = path.child_instance(name, &key);
        }
        Ok(path)
    }
}

/// Splits an address at the dots outside brackets and quoted keys: `module.a["x.y"].t.n` is
/// `module`, `a["x.y"]`, `t`, `n`. `None` for unbalanced brackets or quotes.
fn split_dots(s: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut escaped, mut start) = (0usize, false, false, 0);
    for (i, c) in s.char_indices() {
        if quoted {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' if depth > 0 => quoted = true,
            '[' => depth += 1,
            ']' => depth = depth.checked_sub(1)?,
            '.' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 || quoted {
        return None;
    }
    out.push(&s[start..]);
    Some(out)
}

/// `name`, `name[0]` or `name["k"]` as the name and its key; `None` when malformed.
fn split_step(step: &str) -> Option<(&str, InstanceKey)> {
    let Some(i) = step.find('[') else {
        return (!step.is_empty()).then_some((step, InstanceKey::None));
    };
    let (name, rest) = step.split_at(i);
    let inner = rest.strip_prefix('[')?.strip_suffix(']')?;
    if name.is_empty() {
        return None;
    }
    let key = if let Ok(n) = inner.parse::<i64>() {
        InstanceKey::Int(n)
    } else if inner.starts_with('"') {
        InstanceKey::Str(serde_json::from_str::<String>(inner).ok()?)
    } else {
        return None;
    };
    Some((name, key))
}

impl fmt::Display for ModulePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ".")?;
            }
            write!(f, "module.{m}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Managed,
    Data,
}

/// A resource block in a module instance: `module.net.aws_subnet.private`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceAddr {
    pub module: ModulePath,
    pub mode: Mode,
    pub ty: Arc<str>,
    pub name: Arc<str>,
}

impl ResourceAddr {
    pub fn new(module: ModulePath, mode: Mode, ty: &str, name: &str) -> Self {
        ResourceAddr {
            module,
            mode,
            ty: Arc::from(ty),
            name: Arc::from(name),
        }
    }
    pub fn instance(&self, key: InstanceKey) -> InstanceAddr {
        InstanceAddr {
            resource: self.clone(),
            key,
        }
    }
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        if self.mode == Mode::Data {
            write!(f, "data.")?;
        }
        write!(f, "{}.{}", self.ty, self.name)
    }
}

/// The key of one instance of a resource with `count` (Int) or `for_each` (Str).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    None,
    Int(i64),
    Str(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::None => Ok(()),
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(f, "[{}]", serde_json::Value::String(s.clone())),
        }
    }
}

/// One resource instance: `aws_subnet.private[0]`, `module.net.aws_vpc.main`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceAddr {
    pub resource: ResourceAddr,
    pub key: InstanceKey,
}

impl fmt::Display for InstanceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.resource, self.key)
    }
}

/// Error for an address that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid resource address {0:?}: expected [module.NAME.]...[data.]TYPE.NAME[KEY]")]
pub struct AddrParseError(pub String);

impl InstanceAddr {
    /// Parses `module.a.aws_x.y["k"]`, `module.svc["api"].t.n`, `data.t.n[0]`, `t.n`.
    pub fn parse(s: &str) -> Result<InstanceAddr, AddrParseError> {
        let err = || AddrParseError(s.to_string());
        let tokens = split_dots(s).ok_or_else(err)?;
        let mut i = 0;
        let mut module = ModulePath::root();
        while i + 2 < tokens.len() && tokens[i] == "module" {
            let (name, key) = split_step(tokens[i + 1]).ok_or_else(err)?;
            module = module.child_instance(name, &key);
            i += 2;
        }
        let mut mode = Mode::Managed;
        if tokens.get(i) == Some(&"data") && tokens.len() - i == 3 {
            mode = Mode::Data;
            i += 1;
        }
        if tokens.len() - i != 2
            || tokens[i].is_empty()
            || tokens[i].contains('[')
            || tokens[i] == "module"
        {
            return Err(err());
        }
        let (name, key) = split_step(tokens[i + 1]).ok_or_else(err)?;
        Ok(ResourceAddr::new(module, mode, tokens[i], name).instance(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_roundtrip() {
        for s in [
            "aws_vpc.main",
            "module.net.aws_subnet.a[0]",
            "module.a.module.b.data.aws_region.cur",
            "terraform_data.x[\"k 1\"]",
            "module.svc[\"api\"].aws_ecs_service.this",
            "module.svc[\"a.b\"].module.inner[2].data.t.n[\"x]\"]",
            "module.c[0].t.n",
        ] {
            assert_eq!(InstanceAddr::parse(s).unwrap().to_string(), s);
        }
        assert!(InstanceAddr::parse("nope").is_err());
        assert!(InstanceAddr::parse("a.b[x]").is_err());
        assert!(InstanceAddr::parse("module.a[\"x].t.n").is_err());
        assert!(InstanceAddr::parse("module.a[x].t.n").is_err());
        assert!(InstanceAddr::parse("module.a").is_err());
        let a = InstanceAddr::parse("module.svc[\"api\"].t.n").unwrap();
        assert_eq!(
            a.resource.module.parent_call(),
            Some((
                ModulePath::root(),
                "svc".into(),
                InstanceKey::Str("api".into())
            ))
        );
        assert_eq!(
            ModulePath::parse("module.svc[\"api\"].module.x")
                .unwrap()
                .to_string(),
            "module.svc[\"api\"].module.x"
        );
        assert!(ModulePath::root()
            .child_instance("svc", &InstanceKey::Int(1))
            .child("x")
            .starts_with(&ModulePath::parse("module.svc[1]").unwrap()));
    }
}
