//! The in-tree test provider (`test`): objects kept in memory or, with `store = "DIR"`, as JSON
//! files (so that separate `terrane` processes, and a process killed mid-apply, see them).
//! Latency is configurable and failures happen on demand, for engine tests and benchmarks.
//!
//! ```hcl
//! provider "test" {
//!   latency_ms = 20       # every create/update/delete/read sleeps this long
//!   store      = "./cloud"
//! }
//! resource "test_instance" "a" {
//!   name    = "a"          # forces replacement
//!   tags    = { env = "x" } # updates in place
//!   fail_on = "create"     # create | create_after | update | delete
//!   settle_ms = 5000       # after creating, wait this long before answering
//! }
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use terrane_core::{
    ApplyRequest, Attribute, Diagnostic, Nesting, Provider, ProviderError, ProviderFactory,
    ProviderSchema, ResourceSchema, Type, Value,
};

#[derive(Default)]
struct Settings {
    latency: Duration,
    store: Option<PathBuf>,
    max_concurrency: Option<usize>,
}

/// Objects by id, with the token that created them.
#[derive(Default)]
struct Memory {
    objects: HashMap<String, (String, Value)>,
}

pub struct TestProvider {
    schema: ProviderSchema,
    settings: Mutex<Settings>,
    memory: Arc<Mutex<Memory>>,
}

impl TestProvider {
    pub fn new() -> Self {
        Self::with_memory(Arc::new(Mutex::new(Memory::default())))
    }

    fn with_memory(memory: Arc<Mutex<Memory>>) -> Self {
        let mut schema = ProviderSchema {
            provider: ResourceSchema::new()
                .attr("latency_ms", Attribute::optional(Type::Number))
                .attr("store", Attribute::optional(Type::String))
                .attr("max_concurrency", Attribute::optional(Type::Number)),
            ..Default::default()
        };
        schema.resources.insert(
            "test_instance".into(),
            ResourceSchema::new()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("name", Attribute::optional(Type::String).force_new())
                .attr("tags", Attribute::optional(Type::map(Type::String)))
                .attr("size", Attribute::optional(Type::Number))
                .attr("value", Attribute::optional(Type::Any))
                .attr("secret", Attribute::optional(Type::String).sensitive())
                .attr("fail_on", Attribute::optional(Type::String))
                .attr("latency_ms", Attribute::optional(Type::Number))
                .attr("settle_ms", Attribute::optional(Type::Number))
                .block(
                    "rule",
                    Nesting::List,
                    ResourceSchema::new()
                        .attr("port", Attribute::required(Type::Number))
                        .attr("protocol", Attribute::optional(Type::String)),
                ),
        );
        schema.data_sources.insert(
            "test_data".into(),
            ResourceSchema::new()
                .attr("input", Attribute::optional(Type::Any))
                .attr("output", Attribute::computed(Type::Any)),
        );
        TestProvider {
            schema,
            settings: Mutex::new(Settings::default()),
            memory,
        }
    }

    /// A factory whose instances share one in-memory cloud (for benchmarks and engine tests).
    pub fn shared_factory() -> ProviderFactory {
        let memory = Arc::new(Mutex::new(Memory::default()));
        Arc::new(move || Arc::new(TestProvider::with_memory(memory.clone())) as Arc<dyn Provider>)
    }

    /// A factory with a fresh in-memory cloud per instance (objects in `store` dirs persist).
    pub fn factory() -> ProviderFactory {
        Arc::new(|| Arc::new(TestProvider::new()) as Arc<dyn Provider>)
    }

    fn latency(&self, v: Option<&Value>) -> Duration {
        match v.and_then(|v| v.get("latency_ms")).and_then(Value::as_f64) {
            Some(ms) => Duration::from_millis(ms as u64),
            None => self.settings.lock().expect("settings").latency,
        }
    }

    fn store_dir(&self) -> Option<PathBuf> {
        self.settings.lock().expect("settings").store.clone()
    }

    fn put(&self, id: &str, token: &str, v: &Value) -> Result<(), ProviderError> {
        match self.store_dir() {
            Some(dir) => {
                let doc = serde_json::json!({"token": token, "value": v.to_json()});
                let tmp = dir.join(format!(".{id}.tmp"));
                std::fs::write(&tmp, doc.to_string()).map_err(io_err)?;
                std::fs::rename(&tmp, dir.join(format!("{id}.json"))).map_err(io_err)
            }
            None => {
                self.memory
                    .lock()
                    .expect("memory")
                    .objects
                    .insert(id.to_string(), (token.to_string(), v.clone()));
                Ok(())
            }
        }
    }

    fn get(&self, id: &str) -> Result<Option<(String, Value)>, ProviderError> {
        match self.store_dir() {
            Some(dir) => match std::fs::read_to_string(dir.join(format!("{id}.json"))) {
                Ok(t) => {
                    let j: serde_json::Value =
                        serde_json::from_str(&t).map_err(|e| ProviderError::new(e.to_string()))?;
                    Ok(Some((
                        j["token"].as_str().unwrap_or_default().to_string(),
                        Value::from_json(&j["value"]),
                    )))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io_err(e)),
            },
            None => Ok(self.memory.lock().expect("memory").objects.get(id).cloned()),
        }
    }

    fn remove(&self, id: &str) -> Result<(), ProviderError> {
        match self.store_dir() {
            Some(dir) => match std::fs::remove_file(dir.join(format!("{id}.json"))) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(e)),
                _ => Ok(()),
            },
            None => {
                self.memory.lock().expect("memory").objects.remove(id);
                Ok(())
            }
        }
    }
}

impl Default for TestProvider {
    fn default() -> Self {
        Self::new()
    }
}

fn io_err(e: std::io::Error) -> ProviderError {
    ProviderError::new(format!("test store: {e}"))
}

fn new_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 6];
    rand::thread_rng().fill_bytes(&mut b);
    format!("ti-{}", hex::encode(b))
}

fn fail_on(v: Option<&Value>) -> &str {
    v.and_then(|v| v.get("fail_on"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

#[async_trait]
impl Provider for TestProvider {
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn max_concurrency(&self) -> Option<usize> {
        self.settings.lock().expect("settings").max_concurrency
    }

    async fn configure(&self, config: &Value) -> Result<(), ProviderError> {
        let mut s = self.settings.lock().expect("settings");
        s.latency = Duration::from_millis(
            config
                .get("latency_ms")
                .and_then(Value::as_f64)
                .unwrap_or(0.0) as u64,
        );
        s.max_concurrency = config
            .get("max_concurrency")
            .and_then(Value::as_f64)
            .map(|n| n as usize);
        if let Some(dir) = config.get("store").and_then(Value::as_str) {
            std::fs::create_dir_all(dir).map_err(io_err)?;
            s.store = Some(PathBuf::from(dir));
        }
        Ok(())
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<Diagnostic> {
        let f = fail_on(Some(config));
        if type_name == "test_instance"
            && !["", "create", "create_after", "update", "delete"].contains(&f)
        {
            return vec![Diagnostic::error(
                "Invalid fail_on",
                format!("fail_on must be one of create, create_after, update, delete; got {f:?}."),
            )];
        }
        Vec::new()
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        let lat = self.latency(req.planned.or(req.prior));
        if !lat.is_zero() {
            tokio::time::sleep(lat).await;
        }
        match (req.prior, req.planned) {
            (None, Some(planned)) => {
                if fail_on(Some(planned)) == "create" {
                    return Err(ProviderError::new("CreateInstance: InjectedFailure: creation failed on demand (fail_on = \"create\")"));
                }
                let id = new_id();
                let mut v = planned.clone();
                if let Value::Map(m) = &mut v {
                    m.insert("id".into(), Value::from(id.as_str()));
                    m.insert(
                        "arn".into(),
                        Value::from(format!("arn:test:::instance/{id}")),
                    );
                }
                self.put(&id, req.token, &v)?;
                // The object exists now; like a cloud API, wait for it to become ready.
                if let Some(ms) = planned.get("settle_ms").and_then(Value::as_f64) {
                    tokio::time::sleep(Duration::from_millis(ms as u64)).await;
                }
                if fail_on(Some(planned)) == "create_after" {
                    let mut e = ProviderError::new("WaitInstanceReady: InjectedFailure: the instance was created but never became ready (fail_on = \"create_after\")");
                    e.partial_state = Some(v);
                    return Err(e);
                }
                Ok(Some(v))
            }
            (Some(prior), Some(planned)) => {
                if fail_on(Some(planned)) == "update" {
                    return Err(ProviderError::new("ModifyInstance: InjectedFailure: update failed on demand (fail_on = \"update\")"));
                }
                let id = prior
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if self.get(&id)?.is_none() {
                    return Err(ProviderError::new(format!(
                        "ModifyInstance: NotFound: instance {id} does not exist"
                    )));
                }
                self.put(&id, req.token, planned)?;
                Ok(Some(planned.clone()))
            }
            (Some(prior), None) => {
                if fail_on(Some(prior)) == "delete" {
                    return Err(ProviderError::new("DeleteInstance: InjectedFailure: delete failed on demand (fail_on = \"delete\")"));
                }
                let id = prior.get("id").and_then(Value::as_str).unwrap_or_default();
                self.remove(id)?;
                Ok(None)
            }
            (None, None) => Ok(None),
        }
    }

    async fn read(&self, _type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        let id = state.get("id").and_then(Value::as_str).unwrap_or_default();
        Ok(self.get(id)?.map(|(_, v)| v))
    }

    async fn import(&self, _type_name: &str, id: &str) -> Result<Value, ProviderError> {
        self.get(id)?.map(|(_, v)| v).ok_or_else(|| {
            ProviderError::new(format!("Cannot import non-existent remote object {id}"))
        })
    }

    async fn read_data(&self, _type_name: &str, config: &Value) -> Result<Value, ProviderError> {
        let input = config.get("input").cloned().unwrap_or(Value::Null);
        Ok(Value::map([("input", input.clone()), ("output", input)]))
    }

    async fn recover(
        &self,
        _type_name: &str,
        token: &str,
        _planned: &Value,
    ) -> Result<Option<Value>, ProviderError> {
        match self.store_dir() {
            Some(dir) => {
                for e in std::fs::read_dir(&dir)
                    .map_err(io_err)?
                    .filter_map(|e| e.ok())
                {
                    let p = e.path();
                    if p.extension().is_some_and(|x| x == "json") {
                        let t = std::fs::read_to_string(&p).map_err(io_err)?;
                        let j: serde_json::Value = serde_json::from_str(&t)
                            .map_err(|e| ProviderError::new(e.to_string()))?;
                        if j["token"] == token {
                            return Ok(Some(Value::from_json(&j["value"])));
                        }
                    }
                }
                Ok(None)
            }
            None => Ok(self
                .memory
                .lock()
                .expect("memory")
                .objects
                .values()
                .find(|(t, _)| t == token)
                .map(|(_, v)| v.clone())),
        }
    }
}

/// Registers the test provider under the name `test`.
pub fn register(reg: &mut terrane_core::ProviderRegistry) {
    reg.register("test", TestProvider::factory());
}
