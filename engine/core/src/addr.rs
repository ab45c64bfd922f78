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
    pub fn child(&self, name: &str) -> Self {
        let mut v = self.0.clone();
        v.push(Arc::from(name));
        ModulePath(v)
    }
    pub fn parent(&self) -> Option<(ModulePath, Arc<str>)> {
        let mut v = self.0.clone();
        let last = v.pop()?;
        Some((ModulePath(v), last))
    }
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
    /// Parses `module.a.aws_x.y["k"]`, `data.t.n[0]`, `t.n`.
    pub fn parse(s: &str) -> Result<InstanceAddr, AddrParseError> {
        let err = || AddrParseError(s.to_string());
        let (body, key) = match s.find('[') {
            Some(i) if s.ends_with(']') => {
                let inner = &s[i + 1..s.len() - 1];
                let key = if let Ok(n) = inner.parse::<i64>() {
                    InstanceKey::Int(n)
                } else if inner.starts_with('"') {
                    InstanceKey::Str(serde_json::from_str::<String>(inner).map_err(|_| err())?)
                } else {
                    return Err(err());
                };
                (&s[..i], key)
            }
            Some(_) => return Err(err()),
            None => (s, InstanceKey::None),
        };
        let parts: Vec<&str> = body.split('.').collect();
        let mut i = 0;
        let mut module = ModulePath::root();
        while i + 1 < parts.len() && parts[i] == "module" {
            module = module.child(parts[i + 1]);
            i += 2;
        }
        let mut mode = Mode::Managed;
        if parts.get(i) == Some(&"data") && parts.len() - i == 3 {
            mode = Mode::Data;
            i += 1;
        }
        if parts.len() - i != 2 || parts[i].is_empty() || parts[i + 1].is_empty() {
            return Err(err());
        }
        Ok(ResourceAddr::new(module, mode, parts[i], parts[i + 1]).instance(key))
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
        ] {
            assert_eq!(InstanceAddr::parse(s).unwrap().to_string(), s);
        }
        assert!(InstanceAddr::parse("nope").is_err());
        assert!(InstanceAddr::parse("a.b[x]").is_err());
    }
}
