//! A loaded plugin: its compiled component, what it declared, and a pool of sandboxed
//! instances that carry out calls.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use terrane_core::{ProviderError, ProviderSchema, Value};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::{self, discoverable, wit, PluginPre};
use crate::cache::CacheOutcome;
use crate::capabilities::{url_host, Allow, AwsSigner, Granted, UnsignedAws};
use crate::convert;
use crate::host::Shared;
use crate::limits::{human_size, Limits};
use crate::output::Capture;
use crate::PluginError;

/// What to load and what to allow it.
#[derive(Debug, Clone)]
pub struct PluginSpec {
    /// The local name the configuration uses for it.
    pub name: String,
    pub path: PathBuf,
    pub allow: Allow,
    pub limits: Limits,
}

/// What a plugin says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    pub http_hosts: Vec<String>,
    pub aws_services: Vec<String>,
    /// The contract version the plugin was built for.
    pub contract: String,
}

/// A plugin ready to serve calls; cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    pub(crate) inner: Arc<PluginInner>,
}

pub(crate) struct PluginInner {
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub metadata: Metadata,
    pub schema: ProviderSchema,
    pub granted: Arc<Granted>,
    pub limits: Limits,
    pub cache: CacheOutcome,
    pub compile_time: Duration,
    pre: PluginPre<State>,
    /// Where the optional `discovery` export is (contract 0.1.1), when the plugin has it.
    discovery: Option<discoverable::wit::GuestIndices>,
    /// The types its `discover` finds (empty: it cannot discover).
    discoverable_types: Vec<String>,
    engine: Engine,
    shared: Arc<Shared>,
}

impl Plugin {
    pub fn name(&self) -> &str {
        &self.inner.name
    }
    pub fn sha256(&self) -> &str {
        &self.inner.sha256
    }
    pub fn metadata(&self) -> &Metadata {
        &self.inner.metadata
    }
    pub fn schema(&self) -> &ProviderSchema {
        &self.inner.schema
    }
    /// The resource types the plugin's `discover` finds (contract 0.1.1); empty when it cannot
    /// discover (built against 0.1.0, or it declares none).
    pub fn discoverable_types(&self) -> &[String] {
        &self.inner.discoverable_types
    }
    pub fn granted(&self) -> &Granted {
        &self.inner.granted
    }
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.inner.cache
    }
    /// Time spent compiling or loading the compiled component.
    pub fn load_time(&self) -> Duration {
        self.inner.compile_time
    }
}

/// Store data of one instance.
pub(crate) struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    plugin: Arc<str>,
    granted: Arc<Granted>,
    shared: Arc<Shared>,
    /// The runtime that runs the host's own I/O (HTTP) during a call; none outside calls
    /// that may use capabilities (validate, schema, metadata).
    rt: Option<tokio::runtime::Handle>,
    /// Set when the plugin tried something it was not granted; the call then fails whatever
    /// the plugin does with the refusal.
    violation: Option<String>,
    call_timeout: Duration,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl bindings::terrane::provider::types::Host for State {}

impl bindings::terrane::provider::host::Host for State {
    fn log(&mut self, level: bindings::LogLevel, message: String) {
        use bindings::LogLevel as L;
        let p = &*self.plugin;
        match level {
            L::Trace => tracing::trace!(plugin = p, "{message}"),
            L::Debug => tracing::debug!(plugin = p, "{message}"),
            L::Info => tracing::info!(plugin = p, "{message}"),
            L::Warn => tracing::warn!(plugin = p, "{message}"),
            L::Error => tracing::error!(plugin = p, "{message}"),
        }
    }

    fn send_http(&mut self, r: wit::HttpRequest) -> Result<wit::HttpResponse, String> {
        let host = url_host(&r.url).ok_or_else(|| format!("{:?} is not a URL", r.url))?;
        if !self.granted.http_allows(&host) {
            let declared = self
                .granted
                .declared_http
                .iter()
                .any(|h| crate::capabilities::host_matches(h, &host));
            return Err(self.not_granted(format!("reach {host}"), declared, "http"));
        }
        let rt = self.runtime("HTTP requests")?;
        let headers: Vec<(String, String)> =
            r.headers.into_iter().map(|h| (h.name, h.value)).collect();
        let client = self.shared.http()?;
        tracing::debug!(plugin = &*self.plugin, method = %r.method, url = %r.url, "plugin HTTP request");
        let resp =
            rt.block_on(client.send(&r.method, &r.url, &headers, r.body, self.call_timeout))?;
        Ok(response_out(resp))
    }

    fn send_aws(&mut self, r: wit::AwsRequest) -> Result<wit::HttpResponse, String> {
        if !self.granted.aws_allows(&r.service) {
            let declared = self.granted.declared_aws.contains(&r.service);
            let what = format!("call AWS service {:?}", r.service);
            return Err(self.not_granted(what, declared, "aws"));
        }
        let rt = self.runtime("AWS requests")?;
        let signer: Arc<dyn AwsSigner> = self
            .shared
            .aws
            .clone()
            .ok_or("this Terrane has no AWS signer configured")?;
        let headers: Vec<(String, String)> =
            r.headers.into_iter().map(|h| (h.name, h.value)).collect();
        let client = self.shared.http()?;
        let timeout = self.call_timeout;
        tracing::debug!(plugin = &*self.plugin, service = %r.service, path = %r.path, "plugin AWS request");
        let resp = rt.block_on(async move {
            let signed = signer
                .sign(UnsignedAws {
                    service: &r.service,
                    method: &r.method,
                    path: &r.path,
                    headers: &headers,
                    body: &r.body,
                })
                .await?;
            client
                .send(&r.method, &signed.url, &signed.headers, r.body, timeout)
                .await
        })?;
        Ok(response_out(resp))
    }
}

impl State {
    /// Refuses a capability the plugin was not granted, saying which half is missing.
    fn not_granted(&mut self, what: String, declared: bool, capability: &str) -> String {
        let why = if declared {
            format!("its manifest declares it, but the configuration does not allow it (allow = {{ {capability} = [...] }})")
        } else {
            "its manifest does not declare it".to_string()
        };
        let plugin = self.plugin.clone();
        self.deny(format!(
            "plugin {plugin:?} tried to {what}, which it was not granted: {why}"
        ))
    }

    /// The runtime for the host's I/O; none (refused) during validation.
    fn runtime(&mut self, what: &str) -> Result<tokio::runtime::Handle, String> {
        match self.rt.clone() {
            Some(rt) => Ok(rt),
            None => Err(self.deny(format!("{what} are not available during validation"))),
        }
    }

    fn deny(&mut self, msg: String) -> String {
        tracing::warn!(plugin = &*self.plugin, "{msg}");
        self.violation.get_or_insert(msg.clone());
        msg
    }
}

fn response_out(r: crate::capabilities::Response) -> wit::HttpResponse {
    wit::HttpResponse {
        status: r.status,
        headers: r
            .headers
            .into_iter()
            .map(|(name, value)| wit::Header { name, value })
            .collect(),
        body: r.body,
    }
}

pub(crate) struct Instance {
    store: Store<State>,
    bindings: Bindings,
    stderr: Capture,
}

/// The exports of one instance: the provider, and discovery where the plugin has it.
pub(crate) struct Bindings {
    provider: bindings::Plugin,
    discovery: Option<discoverable::wit::Guest>,
}

impl Bindings {
    pub fn terrane_provider_provider(
        &self,
    ) -> &bindings::exports::terrane::provider::provider::Guest {
        self.provider.terrane_provider_provider()
    }

    pub fn discovery(&self) -> Option<&discoverable::wit::Guest> {
        self.discovery.as_ref()
    }
}

impl PluginInner {
    fn instantiate(&self) -> Result<Instance, String> {
        let stderr = Capture::default();
        // No preopened directories, no environment, no arguments, no sockets: a plugin
        // reaches the outside only through the host interface.
        let wasi = WasiCtxBuilder::new()
            .stdout(stderr.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes)
            .trap_on_grow_failure(true)
            .instances(16)
            .build();
        let mut store = Store::new(
            &self.engine,
            State {
                wasi,
                table: ResourceTable::new(),
                limits,
                plugin: self.name.as_str().into(),
                granted: self.granted.clone(),
                shared: self.shared.clone(),
                rt: None,
                violation: None,
                call_timeout: self.limits.call_timeout,
            },
        );
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(ticks(self.limits.call_timeout));
        let start = |e: wasmtime::Error| format!("cannot start an instance: {e:#}");
        let instance = self
            .pre
            .instance_pre()
            .instantiate(&mut store)
            .map_err(start)?;
        let provider = bindings::Plugin::new(&mut store, &instance).map_err(start)?;
        let discovery = self
            .discovery
            .as_ref()
            .map(|ix| ix.load(&mut store, &instance))
            .transpose()
            .map_err(start)?;
        let bindings = Bindings {
            provider,
            discovery,
        };
        Ok(Instance {
            store,
            bindings,
            stderr,
        })
    }
}

fn ticks(d: Duration) -> u64 {
    (d.as_millis() as u64).div_ceil(crate::host::EPOCH_TICK.as_millis() as u64) + 1
}

/// How a call went wrong, for the message.
fn describe_failure(err: &wasmtime::Error, limits: &Limits, stderr_tail: &str) -> String {
    let text = format!("{err:#}");
    let mut msg = match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => format!(
            "stopped: it ran longer than its limit of {:?} per call",
            limits.call_timeout
        ),
        _ if text.contains("forcing trap when growing memory")
            || text.contains("memory size") && text.contains("exceed") =>
        {
            format!(
                "stopped: it tried to use more memory than its limit of {}",
                human_size(limits.memory_bytes)
            )
        }
        Some(Trap::UnreachableCodeReached) => "crashed (the plugin panicked or aborted)".into(),
        Some(t) => format!("crashed: {t}"),
        None => format!("failed: {text}"),
    };
    let tail = stderr_tail.trim();
    if !tail.is_empty() {
        let lines: Vec<&str> = tail.lines().collect();
        let start = lines.len().saturating_sub(5);
        msg.push_str(&format!("; it wrote: {}", lines[start..].join(" | ")));
    }
    msg
}

/// A pool of instances of one plugin for one provider configuration.
pub(crate) struct Pool {
    pub plugin: Plugin,
    idle: Mutex<Vec<Instance>>,
    /// The provider configuration, given to every new instance.
    config: Mutex<Option<Value>>,
}

/// Which call, for messages.
#[derive(Clone, Copy)]
pub(crate) struct Call<'a> {
    pub name: &'static str,
    pub type_name: Option<&'a str>,
    /// May use capabilities (HTTP, AWS): needs a runtime for the host's I/O.
    pub rt: Option<&'a tokio::runtime::Handle>,
}

impl Pool {
    pub fn new(plugin: Plugin) -> Pool {
        Pool {
            plugin,
            idle: Mutex::new(Vec::new()),
            config: Mutex::new(None),
        }
    }

    pub fn set_config(&self, config: Value) {
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = Some(config);
    }

    fn error(&self, call: Call<'_>, what: String) -> ProviderError {
        let on = call
            .type_name
            .map(|t| format!(" for {t}"))
            .unwrap_or_default();
        ProviderError::new(format!(
            "plugin {:?} ({}), {}{on}: {what}",
            self.plugin.inner.name, self.plugin.inner.file, call.name
        ))
    }

    fn take(&self, call: Call<'_>) -> Result<Instance, ProviderError> {
        if let Some(i) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(i);
        }
        let inner = &self.plugin.inner;
        let mut inst = inner
            .instantiate()
            .map_err(|e| self.error(call, format!("failed to start ({e})")))?;
        let config = self
            .config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(config) = config {
            let encoded = convert::value_out(&config);
            let cfg_call = Call {
                name: "configure",
                ..call
            };
            self.run(&mut inst, cfg_call, |b, s| {
                b.terrane_provider_provider().call_configure(s, &encoded)
            })?
            .map_err(|e| {
                let mut e = convert::error_in(e);
                e.message = format!("configure: {}", e.message);
                e
            })?;
        }
        Ok(inst)
    }

    /// Runs `f` on `inst` within the limits. A trap, a deadline, a memory limit or a refused
    /// capability becomes an error naming the plugin, the call and the resource type.
    fn run<R>(
        &self,
        inst: &mut Instance,
        call: Call<'_>,
        f: impl FnOnce(&Bindings, &mut Store<State>) -> wasmtime::Result<R>,
    ) -> Result<R, ProviderError> {
        self.run_checked(inst, call, f).map_err(|(e, _)| e)
    }

    /// Like [`Pool::run`]; the flag says whether the instance is still usable.
    fn run_checked<R>(
        &self,
        inst: &mut Instance,
        call: Call<'_>,
        f: impl FnOnce(&Bindings, &mut Store<State>) -> wasmtime::Result<R>,
    ) -> Result<R, (ProviderError, bool)> {
        let limits = self.plugin.inner.limits;
        inst.store.set_epoch_deadline(ticks(limits.call_timeout));
        inst.store.data_mut().rt = call.rt.cloned();
        inst.store.data_mut().violation = None;
        let result = f(&inst.bindings, &mut inst.store);
        inst.store.data_mut().rt = None;
        let new = inst.stderr.take();
        for line in new.lines().filter(|l| !l.trim().is_empty()) {
            tracing::info!(plugin = self.plugin.inner.name.as_str(), "{line}");
        }
        let result =
            result.map_err(|e| (self.error(call, describe_failure(&e, &limits, &new)), false))?;
        if let Some(v) = inst.store.data_mut().violation.take() {
            // The instance is intact; only the call is refused.
            return Err((self.error(call, format!("stopped: {v}")), true));
        }
        Ok(result)
    }

    /// Takes an instance, runs the call, and returns the instance to the pool unless the call
    /// trapped (a trapped instance cannot be entered again).
    pub fn call<R>(
        &self,
        call: Call<'_>,
        f: impl FnOnce(&Bindings, &mut Store<State>) -> wasmtime::Result<R>,
    ) -> Result<R, ProviderError> {
        let mut inst = self.take(call)?;
        let started = Instant::now();
        let out = self.run_checked(&mut inst, call, f);
        tracing::trace!(plugin = self.plugin.inner.name.as_str(), call = call.name, elapsed = ?started.elapsed(), "plugin call");
        let healthy = match &out {
            Ok(_) => true,
            Err((_, usable)) => *usable,
        };
        if healthy {
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(inst);
        }
        out.map_err(|(e, _)| e)
    }
}

/// A component just compiled (or loaded from the cache), before it is checked.
pub(crate) struct Compiled {
    pub component: Component,
    pub file: String,
    pub sha256: String,
    pub cache: CacheOutcome,
    pub compile_time: Duration,
}

/// Reads what a freshly compiled plugin declares, and checks it.
pub(crate) fn introspect(
    engine: &Engine,
    linker: &Linker<State>,
    compiled: Compiled,
    spec: &PluginSpec,
    shared: &Arc<Shared>,
) -> Result<Plugin, PluginError> {
    let Compiled {
        component,
        file,
        sha256,
        cache,
        compile_time,
    } = compiled;
    let component = &component;
    let contract = crate::host::check_contract(engine, component, &spec.name, &file)?;
    let invalid = |message: String| PluginError::Invalid {
        plugin: spec.name.clone(),
        file: file.clone(),
        message,
    };
    let instance_pre = linker.instantiate_pre(component).map_err(|e| {
        invalid(format!(
            "it needs something this host does not offer: {e:#}"
        ))
    })?;
    let exports_discovery = component
        .component_type()
        .exports(engine)
        .any(|(name, _)| name.starts_with("terrane:provider/discovery@"));
    let discovery = if exports_discovery {
        Some(
            discoverable::wit::GuestIndices::new(&instance_pre)
                .map_err(|e| invalid(format!("its discovery interface does not match: {e:#}")))?,
        )
    } else {
        None
    };
    let pre = PluginPre::new(instance_pre)
        .map_err(|e| invalid(format!("it does not export the provider interface: {e:#}")))?;
    // Metadata and schema are read through an instance of the plugin itself, before they are
    // known: the placeholder is completed below.
    let placeholder = PluginInner {
        name: spec.name.clone(),
        file: file.clone(),
        sha256,
        metadata: Metadata::default(),
        schema: ProviderSchema::default(),
        granted: Arc::new(Granted::default()),
        limits: spec.limits,
        cache,
        compile_time,
        pre,
        discovery,
        discoverable_types: Vec::new(),
        engine: engine.clone(),
        shared: shared.clone(),
    };
    let pool = Pool::new(Plugin {
        inner: Arc::new(placeholder),
    });
    let call = Call {
        name: "metadata",
        type_name: None,
        rt: None,
    };
    let md = pool
        .call(call, |b, s| b.terrane_provider_provider().call_metadata(s))
        .map_err(|e| invalid(e.message))?;
    let schema = pool
        .call(
            Call {
                name: "schema",
                ..call
            },
            |b, s| b.terrane_provider_provider().call_schema(s),
        )
        .map_err(|e| invalid(e.message))?;
    let schema = convert::provider_schema_in(&schema)
        .map_err(|e| invalid(format!("its schema is invalid: {e}")))?;
    let discoverable_types = if pool.plugin.inner.discovery.is_some() {
        pool.call(
            Call {
                name: "discoverable-types",
                ..call
            },
            |b, s| match b.discovery() {
                Some(d) => d.call_discoverable_types(s),
                None => Ok(Vec::new()),
            },
        )
        .map_err(|e| invalid(e.message))?
    } else {
        Vec::new()
    };
    let granted = Granted::new(&md.http_hosts, &md.aws_services, &spec.allow);
    let Pool { plugin, .. } = pool;
    let old = Arc::try_unwrap(plugin.inner).map_err(|_| invalid("plugin still in use".into()))?;
    Ok(Plugin {
        inner: Arc::new(PluginInner {
            metadata: Metadata {
                name: md.name,
                version: md.version,
                http_hosts: md.http_hosts,
                aws_services: md.aws_services,
                contract,
            },
            schema,
            discoverable_types,
            granted: Arc::new(granted),
            ..old
        }),
    })
}
