//! Mock providers for `terrane test` (a test file's `mock_provider` blocks, as Terraform's
//! test language has them): a provider with the real one's schema that makes nothing. Its
//! resources plan from the schema as any other (what only apply can tell is unknown), apply
//! to the planned values with every unknown filled in, refresh to what the state holds and
//! delete without a call; its data sources read the configuration with the computed
//! attributes filled in. A value filled in is the type's `mock_resource` / `mock_data`
//! `defaults` where they name the attribute, or else a made-up one of the attribute's type:
//! a string of eight letters and digits, 0, false, an empty collection, an object of
//! made-up attributes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use terrane_core::{
    ApplyRequest, Diagnostic, Mode, Nesting, Provider, ProviderError, ProviderFactory,
    ProviderRegistry, ProviderSchema, ResourceAddr, ResourceSchema, SourceRange, Type, Value,
    ValueMap,
};

/// What a test file says of one mocked provider: the `defaults` of its `mock_resource` and
/// `mock_data` blocks, by type.
#[derive(Debug, Clone, Default)]
pub struct MockSpec {
    /// The provider's local name (`aws`).
    pub name: String,
    /// `alias`: the mock stands in for that configuration (`provider.aws.east`) alone, as
    /// [`Mocks::stand_in`] puts it; without one it stands in for every configuration of the
    /// provider ([`Mocks::apply`]).
    pub alias: Option<String>,
    /// The `override_resource` and `override_data` blocks written inside it.
    pub overrides: Vec<Override>,
    pub resources: BTreeMap<String, ValueMap>,
    pub data: BTreeMap<String, ValueMap>,
    /// `source`: a directory of `.tfmock.hcl` files with more of them, and where it is written.
    pub source: Option<(String, std::ops::Range<usize>)>,
}

/// A test file's mock providers, each checked to be of a provider the registry has.
#[derive(Clone, Default)]
pub struct Mocks(Vec<Arc<MockSpec>>);

impl Mocks {
    /// The mocks `specs` describe; a provider the registry lacks is an error naming the ones
    /// it has.
    pub fn new(registry: &ProviderRegistry, specs: Vec<MockSpec>) -> Result<Mocks, String> {
        for spec in &specs {
            if registry.get(&spec.name).is_none() {
                let known: Vec<&str> = registry.names().collect();
                return Err(format!(
                    "there is no provider {:?} to mock (the providers are {})",
                    spec.name,
                    known.join(", ")
                ));
            }
        }
        Ok(Mocks(specs.into_iter().map(Arc::new).collect()))
    }

    /// `registry` (one of the same providers as the one the mocks were checked against) with
    /// each mocked provider replaced by its mock, which keeps the real one's schema and
    /// validation.
    pub fn apply(&self, registry: &ProviderRegistry) -> ProviderRegistry {
        let mut out = registry.clone();
        for spec in self.0.iter().filter(|s| s.alias.is_none()) {
            let Some(real) = registry.get(&spec.name).cloned() else {
                continue;
            };
            let name = spec.name.clone();
            let spec = spec.clone();
            let factory: ProviderFactory = Arc::new(move || mock_of(real(), spec.clone()));
            out.register(&name, factory);
        }
        out
    }

    /// The aliased mock standing in for provider configuration `key` (`provider.aws.east`),
    /// wrapping `real` (for its schema and validation); `None` when no mock has that alias.
    pub fn stand_in(&self, key: &str, real: &Arc<dyn Provider>) -> Option<Arc<dyn Provider>> {
        let spec = self.0.iter().find(|s| {
            s.alias
                .as_deref()
                .is_some_and(|a| crate::config::provider_key(&s.name, Some(a)) == key)
        })?;
        Some(mock_of(real.clone(), spec.clone()))
    }

    /// The `override_*` blocks written inside the mock_provider blocks.
    pub fn overrides(&self) -> impl Iterator<Item = &Override> {
        self.0.iter().flat_map(|s| s.overrides.iter())
    }
}

fn mock_of(real: Arc<dyn Provider>, spec: Arc<MockSpec>) -> Arc<dyn Provider> {
    Arc::new(MockProvider {
        schema: real.schema().clone(),
        real,
        spec,
        made: AtomicU64::new(0),
    })
}

/// An `override_resource` or `override_data` block of a test file: a resource or data source
/// (every instance of it) whose provider is not called, as under a mock provider, with
/// `values` for its computed attributes.
#[derive(Debug, Clone)]
pub struct Override {
    /// The resource, in modules whose steps may leave out the instance key (then it is every
    /// instance of that module call).
    pub target: ResourceAddr,
    pub values: ValueMap,
    /// Where the target is written.
    pub range: Option<SourceRange>,
}

impl Override {
    /// Whether `addr` is the target's resource.
    pub fn matches(&self, addr: &ResourceAddr) -> bool {
        let t = &self.target;
        t.mode == addr.mode
            && t.ty == addr.ty
            && t.name == addr.name
            && t.module.0.len() == addr.module.0.len()
            && t.module.0.iter().zip(&addr.module.0).all(|(want, step)| {
                want == step || (!want.contains('[') && step.split('[').next() == Some(want))
            })
    }

    /// A provider standing in for `real` at the target: `real`'s schema and validation,
    /// nothing called, the override's values for the computed attributes.
    pub fn provider(&self, real: &Arc<dyn Provider>) -> Arc<dyn Provider> {
        let mut spec = MockSpec {
            name: format!("override {}", self.target),
            ..Default::default()
        };
        let by_type = match self.target.mode {
            Mode::Managed => &mut spec.resources,
            Mode::Data => &mut spec.data,
        };
        by_type.insert(self.target.ty.to_string(), self.values.clone());
        mock_of(real.clone(), Arc::new(spec))
    }
}

struct MockProvider {
    schema: ProviderSchema,
    /// Asked only to validate configurations: it is never configured and never called.
    real: Arc<dyn Provider>,
    spec: Arc<MockSpec>,
    /// How many values have been made up, so that no two are the same.
    made: AtomicU64,
}

impl MockProvider {
    /// A made-up string: eight lowercase letters and digits, different each time.
    fn made_up(&self, type_name: &str, attr: &str) -> String {
        let n = self.made.fetch_add(1, Ordering::Relaxed);
        let digest = Sha256::digest(format!("{}/{type_name}/{attr}/{n}", self.spec.name));
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        digest
            .iter()
            .take(8)
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect()
    }

    /// A made-up value of type `ty`.
    fn value_of(&self, type_name: &str, attr: &str, ty: &Type) -> Value {
        match ty {
            Type::String | Type::Any => Value::String(self.made_up(type_name, attr)),
            Type::Number => Value::Number(0.0),
            Type::Bool => Value::Bool(false),
            Type::List(_) | Type::Set(_) => Value::List(Vec::new()),
            Type::Map(_) => Value::Map(ValueMap::new()),
            Type::Object(fields) => Value::Map(
                fields
                    .iter()
                    .map(|(k, t)| (k.clone(), self.value_of(type_name, k, t)))
                    .collect(),
            ),
        }
    }

    /// `value` with every unknown, and every computed attribute left null, filled in:
    /// `defaults` first (at the top level), then made-up values.
    fn fill(
        &self,
        type_name: &str,
        schema: &ResourceSchema,
        value: &Value,
        defaults: Option<&ValueMap>,
    ) -> Value {
        let Value::Map(m) = value else {
            return value.clone();
        };
        let mut out = m.clone();
        for (name, a) in &schema.attributes {
            let v = m.get(name).cloned().unwrap_or(Value::Null);
            let missing = v.is_unknown() || (v.is_null() && a.computed);
            if missing {
                let d = defaults.and_then(|d| d.get(name)).cloned();
                out.insert(
                    name.clone(),
                    d.unwrap_or_else(|| self.value_of(type_name, name, &a.ty)),
                );
            } else if v.contains_unknown() {
                out.insert(name.clone(), known_within(&v));
            }
        }
        for (name, b) in &schema.blocks {
            let filled = match m.get(name) {
                Some(Value::List(items)) => Value::List(
                    items
                        .iter()
                        .map(|i| self.fill(type_name, &b.schema, i, None))
                        .collect(),
                ),
                Some(v @ Value::Map(_)) => self.fill(type_name, &b.schema, v, None),
                Some(Value::Unknown) => match b.nesting {
                    Nesting::Single => Value::Null,
                    Nesting::List | Nesting::Set => Value::List(Vec::new()),
                },
                _ => continue,
            };
            out.insert(name.clone(), filled);
        }
        Value::Map(out)
    }
}

/// A value with its unknown parts (inside a list or map) made null: what a mock leaves of
/// what it cannot tell inside a value it was given.
fn known_within(v: &Value) -> Value {
    match v {
        Value::Unknown => Value::Null,
        Value::List(items) => Value::List(items.iter().map(known_within).collect()),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), known_within(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[async_trait]
impl Provider for MockProvider {
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn answers_in_process(&self) -> bool {
        true
    }

    fn applies_in_process(&self) -> bool {
        true
    }

    async fn configure(&self, _config: &Value) -> Result<(), ProviderError> {
        Ok(())
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<Diagnostic> {
        self.real.validate(type_name, config)
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        let Some(planned) = req.planned else {
            return Ok(None);
        };
        let schema = self.schema.resources.get(req.type_name).ok_or_else(|| {
            ProviderError::new(format!("unknown resource type {}", req.type_name))
        })?;
        let defaults = self.spec.resources.get(req.type_name);
        Ok(Some(self.fill(req.type_name, schema, planned, defaults)))
    }

    async fn read(&self, _type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(Some(state.clone()))
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> Result<Value, ProviderError> {
        let schema = self
            .schema
            .data_sources
            .get(type_name)
            .ok_or_else(|| ProviderError::new(format!("unknown data source {type_name}")))?;
        Ok(self.fill(type_name, schema, config, self.spec.data.get(type_name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use terrane_core::Attribute;

    struct Real(ProviderSchema);

    #[async_trait]
    impl Provider for Real {
        fn schema(&self) -> &ProviderSchema {
            &self.0
        }
        async fn apply(&self, _r: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
            Err(ProviderError::new("the real provider was called"))
        }
        async fn read(&self, _t: &str, _s: &Value) -> Result<Option<Value>, ProviderError> {
            Err(ProviderError::new("the real provider was called"))
        }
    }

    fn registry() -> ProviderRegistry {
        let mut s = ResourceSchema::new();
        s.attributes
            .insert("name".into(), Attribute::required(Type::String));
        for (k, t) in [
            ("id", Type::String),
            ("port", Type::Number),
            ("ok", Type::Bool),
        ] {
            let mut a = Attribute::required(t);
            a.required = false;
            a.computed = true;
            s.attributes.insert(k.into(), a);
        }
        let mut schema = ProviderSchema::default();
        schema.resources.insert("x_thing".into(), s.clone());
        schema.data_sources.insert("x_thing".into(), s);
        let mut r = ProviderRegistry::new();
        r.register("x", Arc::new(move || Arc::new(Real(schema.clone()))));
        r
    }

    #[tokio::test]
    async fn a_mock_fills_what_only_apply_can_tell_from_defaults_or_made_up_values() {
        let mut defaults = ValueMap::new();
        defaults.insert("port".into(), Value::Number(8080.0));
        let spec = MockSpec {
            name: "x".into(),
            resources: [("x_thing".to_string(), defaults.clone())].into(),
            data: [("x_thing".to_string(), defaults)].into(),
            ..Default::default()
        };
        let r = Mocks::new(&registry(), vec![spec])
            .unwrap()
            .apply(&registry());
        let p = r.get("x").unwrap()();
        let planned = Value::map([
            ("name", Value::str("web")),
            ("id", Value::Unknown),
            ("port", Value::Unknown),
            ("ok", Value::Unknown),
        ]);
        let req = ApplyRequest {
            type_name: "x_thing",
            prior: None,
            planned: Some(&planned),
            config: &planned,
            token: "t",
            progress: &terrane_core::NoProgress,
        };
        let made = p.apply(req.clone()).await.unwrap().unwrap();
        assert_eq!(made.get("name"), Some(&Value::str("web")));
        assert_eq!(made.get("port"), Some(&Value::Number(8080.0)));
        assert_eq!(made.get("ok"), Some(&Value::Bool(false)));
        let id = made.get("id").and_then(Value::as_str).unwrap().to_string();
        assert_eq!(id.len(), 8);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        // Another object gets another id; a refresh keeps what the state holds.
        let again = p.apply(req).await.unwrap().unwrap();
        assert_ne!(again.get("id"), made.get("id"));
        assert_eq!(p.read("x_thing", &made).await.unwrap(), Some(made.clone()));
        // A delete calls nothing.
        let gone = ApplyRequest {
            type_name: "x_thing",
            prior: Some(&made),
            planned: None,
            config: &Value::Null,
            token: "t",
            progress: &terrane_core::NoProgress,
        };
        assert_eq!(p.apply(gone).await.unwrap(), None);
        // A data source: the configuration, computed attributes filled in.
        let read = p
            .read_data("x_thing", &Value::map([("name", Value::str("db"))]))
            .await
            .unwrap();
        assert_eq!(read.get("name"), Some(&Value::str("db")));
        assert_eq!(read.get("port"), Some(&Value::Number(8080.0)));
    }

    #[test]
    fn mocking_a_provider_that_is_not_there_is_an_error() {
        let spec = MockSpec {
            name: "nope".into(),
            ..Default::default()
        };
        let e = Mocks::new(&registry(), vec![spec]).err().unwrap();
        assert!(e.contains("there is no provider \"nope\" to mock"), "{e}");
    }

    #[test]
    fn an_override_matches_its_resource_in_every_instance_of_a_module_call_without_a_key() {
        let o = |t: &str| Override {
            target: terrane_core::InstanceAddr::parse(t).unwrap().resource,
            values: ValueMap::new(),
            range: None,
        };
        let at = |a: &str| terrane_core::InstanceAddr::parse(a).unwrap().resource;
        assert!(o("x_thing.a").matches(&at("x_thing.a[0]")));
        assert!(!o("x_thing.a").matches(&at("x_thing.b")));
        assert!(!o("x_thing.a").matches(&at("data.x_thing.a")));
        assert!(!o("x_thing.a").matches(&at("module.m.x_thing.a")));
        assert!(o("module.m.x_thing.a").matches(&at("module.m[\"k\"].x_thing.a")));
        assert!(o("module.m[\"k\"].x_thing.a").matches(&at("module.m[\"k\"].x_thing.a")));
        assert!(!o("module.m[\"k\"].x_thing.a").matches(&at("module.m[\"j\"].x_thing.a")));
        assert!(!o("module.mm.x_thing.a").matches(&at("module.m.x_thing.a")));
    }
}
