//! A harness for plugin authors: load a plugin's `.wasm` into the real host and call it as the
//! engine would (configure, validate, plan, apply, read, import) from an ordinary `#[test]`,
//! without Terrane's command line.
//!
//! ```no_run
//! use terrane_core::Value;
//! use terrane_plugin_host::testing::Harness;
//!
//! let h = Harness::load("target/wasm32-wasip2/release/my_plugin.wasm").unwrap();
//! h.configure(Value::map([("seed", Value::from(7i64))])).unwrap();
//! let state = h.create("random_id", Value::map([("byte_length", Value::from(8i64))])).unwrap();
//! assert_eq!(state.get("hex").and_then(Value::as_str).map(str::len), Some(16));
//! ```

use std::path::Path;

use terrane_core::{
    ApplyRequest, Diagnostic, DiscoverFilter, DiscoveredObject, Nesting, PlanRequest, PlanResponse,
    Provider, ProviderError, ResourceSchema, Value,
};

use crate::{
    Allow, HostOptions, Limits, Plugin, PluginError, PluginHost, PluginProvider, PluginSpec,
};

pub struct Harness {
    rt: tokio::runtime::Runtime,
    provider: PluginProvider,
    plugin: Plugin,
    _host: PluginHost,
}

impl Harness {
    /// Loads with no capabilities granted, the default limits and the default compiled-plugin
    /// cache ([`PluginHost::default_cache_dir`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Harness, PluginError> {
        let opts = HostOptions {
            cache_dir: PluginHost::default_cache_dir(),
            aws_signer: None,
        };
        Harness::load_with(path, Allow::default(), Limits::default(), opts)
    }

    pub fn load_with(
        path: impl AsRef<Path>,
        allow: Allow,
        limits: Limits,
        opts: HostOptions,
    ) -> Result<Harness, PluginError> {
        let host = PluginHost::new(opts)?;
        let path = path.as_ref();
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "plugin".into());
        let plugin = host.load(&PluginSpec {
            name,
            path: path.to_path_buf(),
            allow,
            limits,
        })?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| PluginError::Host(e.to_string()))?;
        Ok(Harness {
            rt,
            provider: PluginProvider::new(plugin.clone()),
            plugin,
            _host: host,
        })
    }

    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    pub fn provider(&self) -> &PluginProvider {
        &self.provider
    }

    pub fn configure(&self, config: Value) -> Result<(), ProviderError> {
        let config = complete(&self.plugin.schema().provider, config);
        self.rt.block_on(self.provider.configure(&config))
    }

    pub fn validate(&self, type_name: &str, config: Value) -> Vec<Diagnostic> {
        let config = self.complete(type_name, config);
        self.provider.validate(type_name, &config)
    }

    pub fn plan(
        &self,
        type_name: &str,
        prior: Option<&Value>,
        config: Value,
    ) -> Result<PlanResponse, ProviderError> {
        let config = self.complete(type_name, config);
        self.rt.block_on(self.provider.plan(PlanRequest {
            type_name,
            prior,
            config: &config,
        }))
    }

    /// Plans and applies a create; returns the new state.
    pub fn create(&self, type_name: &str, config: Value) -> Result<Value, ProviderError> {
        self.change(type_name, None, config)
    }

    /// Plans and applies an update of `prior` (or a create when the plan requires replacement:
    /// the caller sees new computed values).
    pub fn update(
        &self,
        type_name: &str,
        prior: &Value,
        config: Value,
    ) -> Result<Value, ProviderError> {
        self.change(type_name, Some(prior), config)
    }

    fn change(
        &self,
        type_name: &str,
        prior: Option<&Value>,
        config: Value,
    ) -> Result<Value, ProviderError> {
        let config = self.complete(type_name, config);
        let plan = self.rt.block_on(self.provider.plan(PlanRequest {
            type_name,
            prior,
            config: &config,
        }))?;
        if let Some(d) = plan
            .diagnostics
            .iter()
            .find(|d| d.severity == terrane_core::Severity::Error)
        {
            return Err(ProviderError::new(format!("{}: {}", d.summary, d.detail)));
        }
        let prior = if plan.requires_replace.is_empty() {
            prior
        } else {
            None
        };
        let out = self.rt.block_on(self.provider.apply(ApplyRequest {
            type_name,
            prior,
            planned: Some(&plan.planned),
            config: &config,
            token: "harness-token",
            progress: &terrane_core::NoProgress,
        }))?;
        out.ok_or_else(|| ProviderError::new("apply returned no state for a create or update"))
    }

    pub fn delete(&self, type_name: &str, prior: &Value) -> Result<(), ProviderError> {
        let out = self.rt.block_on(self.provider.apply(ApplyRequest {
            type_name,
            prior: Some(prior),
            planned: None,
            config: &Value::Null,
            token: "harness-token",
            progress: &terrane_core::NoProgress,
        }))?;
        match out {
            None => Ok(()),
            Some(_) => Err(ProviderError::new("apply returned a state for a delete")),
        }
    }

    pub fn read(&self, type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        self.rt.block_on(self.provider.read(type_name, state))
    }

    pub fn import(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        self.rt.block_on(self.provider.import(type_name, id))
    }

    pub fn read_data(&self, type_name: &str, config: Value) -> Result<Value, ProviderError> {
        let config = match self.plugin.schema().data_sources.get(type_name) {
            Some(s) => complete(s, config),
            None => config,
        };
        self.rt
            .block_on(self.provider.read_data(type_name, &config))
    }

    /// The plugin's objects that match `filter` (contract 0.1.1 `discovery`); an error for a
    /// plugin that cannot discover.
    pub fn discover(
        &self,
        filter: &DiscoverFilter,
    ) -> Result<Vec<DiscoveredObject>, ProviderError> {
        self.rt.block_on(self.provider.discover(filter))
    }

    fn complete(&self, type_name: &str, config: Value) -> Value {
        match self.plugin.schema().resources.get(type_name) {
            Some(s) => complete(s, config),
            None => config,
        }
    }
}

/// The configuration as the engine hands it to a provider: every attribute present (null when
/// unset), blocks as null (single) or empty lists.
fn complete(schema: &ResourceSchema, config: Value) -> Value {
    let mut m = match config {
        Value::Map(m) => m,
        Value::Null => Default::default(),
        other => return other,
    };
    for name in schema.attributes.keys() {
        m.entry(name.clone()).or_insert(Value::Null);
    }
    for (name, b) in &schema.blocks {
        m.entry(name.clone()).or_insert(match b.nesting {
            Nesting::Single => Value::Null,
            Nesting::List | Nesting::Set => Value::List(vec![]),
        });
    }
    Value::Map(m)
}
