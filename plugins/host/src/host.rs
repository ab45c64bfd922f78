//! The plugin host: one wasmtime engine for the process, the epoch ticker that enforces call
//! deadlines, the compiled-component cache, and the linker that offers the host interface.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

use crate::bindings::{self, major_of, SUPPORTED_MAJORS};
use crate::cache;
use crate::capabilities::{AwsSigner, HttpClient};
use crate::plugin::{introspect, Compiled, Plugin, PluginSpec, State};
use crate::PluginError;

/// How often the engine's epoch advances; the granularity of call deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// What instances share with the host.
pub(crate) struct Shared {
    http: OnceLock<Result<HttpClient, String>>,
    pub aws: Option<Arc<dyn AwsSigner>>,
    /// Stops the epoch ticker when the host and every plugin loaded from it are gone.
    stop: Arc<AtomicBool>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Shared {
    /// The HTTP client, made on first use (loading the system's TLS roots costs a little).
    pub fn http(&self) -> Result<HttpClient, String> {
        self.http.get_or_init(HttpClient::new).clone()
    }
}

#[derive(Default)]
pub struct HostOptions {
    /// Where compiled components are kept; none disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Signs the AWS requests of plugins granted an AWS service.
    pub aws_signer: Option<Arc<dyn AwsSigner>>,
}

/// One per process: plugins loaded through the same host share its engine.
pub struct PluginHost {
    engine: Engine,
    linker: Linker<State>,
    cache_dir: Option<PathBuf>,
    shared: Arc<Shared>,
}

impl PluginHost {
    pub fn new(opts: HostOptions) -> Result<PluginHost, PluginError> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        // Many instances may live at once: reserve address space for what the limits allow
        // rather than wasmtime's default 4 GiB per memory.
        config.memory_reservation(1 << 30);
        let engine = Engine::new(&config).map_err(|e| PluginError::Host(format!("{e:#}")))?;
        let mut linker: Linker<State> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| PluginError::Host(format!("{e:#}")))?;
        bindings::Plugin::add_to_linker::<State, wasmtime::component::HasSelf<State>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| PluginError::Host(format!("{e:#}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("terrane-plugin-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| PluginError::Host(format!("cannot start the epoch thread: {e}")))?;
        }
        Ok(PluginHost {
            engine,
            linker,
            cache_dir: opts.cache_dir,
            shared: Arc::new(Shared {
                http: OnceLock::new(),
                aws: opts.aws_signer,
                stop,
            }),
        })
    }

    /// The default cache directory: `$TERRANE_PLUGIN_CACHE`, else `$XDG_CACHE_HOME/terrane/plugins`,
    /// else `~/.cache/terrane/plugins`.
    pub fn default_cache_dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("TERRANE_PLUGIN_CACHE") {
            return Some(PathBuf::from(d));
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("terrane").join("plugins"))
    }

    /// Loads a plugin: reads and hashes the file, compiles it (or loads the cached compilation),
    /// checks its contract version, and reads its metadata and schema.
    pub fn load(&self, spec: &PluginSpec) -> Result<Plugin, PluginError> {
        self.load_trusted(spec, |_| Ok(()))
    }

    /// Like [`PluginHost::load`], but `trust` sees the file's sha256 first and may refuse it,
    /// before any of the plugin's code is compiled or run (the file is read once).
    pub fn load_trusted(
        &self,
        spec: &PluginSpec,
        trust: impl FnOnce(&str) -> Result<(), String>,
    ) -> Result<Plugin, PluginError> {
        let file = spec.path.display().to_string();
        let wasm = std::fs::read(&spec.path).map_err(|e| PluginError::Read {
            plugin: spec.name.clone(),
            file: file.clone(),
            message: e.to_string(),
        })?;
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&wasm));
        trust(&sha256).map_err(|message| PluginError::Untrusted {
            plugin: spec.name.clone(),
            message,
        })?;
        self.load_bytes(spec, &wasm, sha256)
    }

    fn load_bytes(
        &self,
        spec: &PluginSpec,
        wasm: &[u8],
        sha256: String,
    ) -> Result<Plugin, PluginError> {
        let file = spec.path.display().to_string();
        let started = Instant::now();
        let (component, outcome) =
            cache::load(&self.engine, self.cache_dir.as_deref(), wasm, &sha256).map_err(|e| {
                PluginError::Invalid {
                    plugin: spec.name.clone(),
                    file: file.clone(),
                    message: format!("it is not a WebAssembly component: {e:#}"),
                }
            })?;
        let compile_time = started.elapsed();
        tracing::debug!(
            plugin = spec.name.as_str(),
            ?outcome,
            ?compile_time,
            "plugin loaded"
        );
        let compiled = Compiled {
            component,
            file,
            sha256,
            cache: outcome,
            compile_time,
        };
        introspect(&self.engine, &self.linker, compiled, spec, &self.shared)
    }
}

/// The `terrane:provider/provider@X` export and its version; refuses versions this host does
/// not speak.
pub(crate) fn check_contract(
    engine: &Engine,
    component: &Component,
    plugin: &str,
    file: &str,
) -> Result<String, PluginError> {
    let ty = component.component_type();
    let mut exports = Vec::new();
    for (name, _) in ty.exports(engine) {
        exports.push(name.to_string());
        if let Some(version) = name.strip_prefix("terrane:provider/provider@") {
            if !SUPPORTED_MAJORS.contains(&major_of(version).as_str()) {
                return Err(PluginError::Contract {
                    plugin: plugin.to_string(),
                    file: file.to_string(),
                    plugin_version: version.to_string(),
                    host_versions: SUPPORTED_MAJORS
                        .iter()
                        .map(|m| format!("{m}.x"))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            return Ok(version.to_string());
        }
    }
    Err(PluginError::Invalid {
        plugin: plugin.to_string(),
        file: file.to_string(),
        message: format!(
            "it does not export terrane:provider/provider (it exports: {}); build it with terrane-plugin-sdk",
            if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") }
        ),
    })
}
