//! WASM provider plugins named in `required_providers`: checked against the lock file, loaded
//! into the plugin host, and added to the provider registry under their local names.
//!
//! ```hcl
//! terraform {
//!   required_providers {
//!     random = {
//!       source  = "./plugins/random.wasm"   # a path (relative to the module) ending in .wasm,
//!                                           # or an address such as "hashicorp/random" found in
//!                                           # $TERRANE_PLUGIN_PATH (default ~/.terrane/plugins)
//!       version = "~> 0.1"                  # checked against the plugin's own version
//!       allow   = { http = ["api.example.com"], aws = ["ssm"] }   # capabilities granted
//!       limits  = { memory = "256MiB", timeout = "60s", instances = 8 }
//!     }
//!   }
//! }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use terrane_core::{Diagnostic, Diagnostics, Provider, ProviderRegistry, Value};
use terrane_engine::config::{Config, RequiredProvider};
use terrane_plugin_host::limits::{parse_duration, parse_size};
use terrane_plugin_host::lock::{version_matches, LockFile, LockedPlugin, LOCK_FILE};
use terrane_plugin_host::{
    Allow, HostOptions, Limits, Plugin, PluginError, PluginHost, PluginProvider, PluginSpec,
};

use super::Ctx;

/// A `required_providers` entry whose source is a plugin file.
struct Entry<'a> {
    req: &'a RequiredProvider,
    /// The source as written, normalized to the root module (the lock file's key).
    key: String,
    spec: PluginSpec,
}

fn is_plugin_source(s: &str) -> bool {
    s.ends_with(".wasm") || s.starts_with("./") || s.starts_with("../") || s.starts_with('/')
}

fn diag(req: &RequiredProvider, summary: &str, detail: impl Into<String>) -> Diagnostic {
    Diagnostic::error(summary, detail).with_range(Some(req.range.clone()))
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_list()?
        .iter()
        .map(|x| x.as_str().map(String::from))
        .collect()
}

fn lexical_normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Where plugins named by source address (`hashicorp/random`) are looked for:
/// `$TERRANE_PLUGIN_PATH` (directories separated by `:`), else `~/.terrane/plugins`.
fn plugin_dirs() -> Vec<PathBuf> {
    match std::env::var_os("TERRANE_PLUGIN_PATH") {
        Some(p) => std::env::split_paths(&p).collect(),
        None => std::env::var_os("HOME")
            .map(|h| vec![PathBuf::from(h).join(".terrane").join("plugins")])
            .unwrap_or_default(),
    }
}

/// A plugin for a source address `namespace/name`: `<dir>/<namespace>/<name>.wasm` or
/// `<dir>/<name>.wasm` in the first plugin directory that has one.
fn find_by_name(source: &str) -> Option<PathBuf> {
    let (ns, name) = source.rsplit_once('/').unwrap_or(("", source));
    let ns = ns.rsplit('/').next().unwrap_or_default();
    plugin_dirs().into_iter().find_map(|d| {
        [
            d.join(ns).join(format!("{name}.wasm")),
            d.join(format!("{name}.wasm")),
        ]
        .into_iter()
        .find(|p| p.is_file())
    })
}

fn entry<'a>(
    root: &Path,
    req: &'a RequiredProvider,
    builtin: &ProviderRegistry,
) -> Result<Option<Entry<'a>>, Diagnostic> {
    let Some(source) = req.source.as_deref() else {
        return Ok(None);
    };
    let (path, key) = if is_plugin_source(source) {
        let path = lexical_normalize(&req.module_dir.join(source));
        let key = path
            .strip_prefix(lexical_normalize(root))
            .map(|p| p.to_string_lossy().to_string())
            .unwrap_or_else(|_| path.to_string_lossy().to_string());
        (path, key)
    } else if builtin.get(&req.name).is_some() {
        // `aws = { source = "hashicorp/aws" }`: a provider compiled into this binary.
        return Ok(None);
    } else if let Some(path) = find_by_name(source) {
        // `random = { source = "hashicorp/random" }` served by an installed plugin.
        (path, source.to_string())
    } else {
        // Not installed: the session reports the provider as unavailable, at its first use.
        return Ok(None);
    };
    let mut allow = Allow::default();
    let mut limits = Limits::default();
    for (k, v) in &req.settings {
        match (k.as_str(), v) {
            ("allow", Value::Map(m)) => {
                for (cap, list) in m {
                    let Some(list) = strings(list) else {
                        return Err(diag(req, "Invalid plugin grant", format!("allow.{cap} must be a list of strings.")));
                    };
                    match cap.as_str() {
                        "http" => allow.http = list,
                        "aws" => allow.aws = list,
                        other => {
                            return Err(diag(
                                req,
                                "Invalid plugin grant",
                                format!("{other:?} is not a capability. A plugin can be allowed: http (host names), aws (service names)."),
                            ))
                        }
                    }
                }
            }
            ("limits", Value::Map(m)) => {
                for (name, v) in m {
                    let text = v
                        .as_str()
                        .map(String::from)
                        .or_else(|| v.as_f64().map(|n| n.to_string()))
                        .unwrap_or_default();
                    let bad = |e: String| diag(req, "Invalid plugin limit", format!("limits.{name}: {e}"));
                    match name.as_str() {
                        "memory" => limits.memory_bytes = parse_size(&text).map_err(bad)?,
                        "timeout" => limits.call_timeout = parse_duration(&text).map_err(bad)?,
                        "instances" => {
                            limits.max_instances = text
                                .parse::<usize>()
                                .ok()
                                .filter(|n| *n > 0)
                                .ok_or_else(|| bad(format!("{text:?} is not a positive whole number")))?
                        }
                        other => {
                            return Err(diag(
                                req,
                                "Invalid plugin limit",
                                format!("{other:?} is not a limit. Plugin limits are: memory (e.g. \"256MiB\"), timeout (per call, e.g. \"60s\"), instances."),
                            ))
                        }
                    }
                }
            }
            (other, _) => {
                return Err(diag(
                    req,
                    "Unsupported plugin setting",
                    format!("{other:?} is not a setting of a plugin entry. Expected: source, version, allow, limits."),
                ))
            }
        }
    }
    Ok(Some(Entry {
        req,
        key,
        spec: PluginSpec {
            name: req.name.clone(),
            path,
            allow,
            limits,
        },
    }))
}

fn entries<'a>(ctx: &Ctx, config: &'a Config) -> Result<Vec<Entry<'a>>, Diagnostics> {
    let mut out = Vec::new();
    let mut diags = Diagnostics::new();
    for req in config.required_providers() {
        match entry(&ctx.dir, req, &ctx.registry) {
            Ok(Some(e)) => out.push(e),
            Ok(None) => {}
            Err(d) => diags.push(d),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(out)
}

/// The process's one plugin host (one wasmtime engine), started on first use.
fn host() -> Result<&'static PluginHost, Diagnostics> {
    static HOST: std::sync::OnceLock<Result<PluginHost, String>> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        PluginHost::new(HostOptions {
            cache_dir: PluginHost::default_cache_dir(),
            aws_signer: Some(Arc::new(terrane_provider_aws::PluginSigner::from_env())),
        })
        .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| Diagnostic::error("Plugin host failed to start", e.clone()).into())
}

/// Loads a plugin; with a lock file, only a file with the recorded hash.
fn load(host: &PluginHost, e: &Entry<'_>, lock: Option<&LockFile>) -> Result<Plugin, Diagnostic> {
    let loaded = match lock {
        Some(l) => host.load_trusted(&e.spec, |sha| l.check(&e.key, sha)),
        None => host.load(&e.spec),
    };
    let plugin = loaded.map_err(|err| {
        let summary = match err {
            PluginError::Read { .. } => "Plugin not found",
            PluginError::Untrusted { .. } => "Plugin not trusted",
            _ => "Plugin refused",
        };
        diag(e.req, summary, err.to_string())
    })?;
    if let Some(c) = &e.req.version {
        let v = &plugin.metadata().version;
        match version_matches(c, v) {
            Ok(true) => {}
            Ok(false) => {
                return Err(diag(
                    e.req,
                    "Plugin version does not match",
                    format!(
                        "{} is version {v}, but the configuration requires {c:?}.",
                        e.key
                    ),
                ))
            }
            Err(err) => return Err(diag(e.req, "Invalid version constraint", err)),
        }
    }
    for (what, declared, allowed) in [
        (
            "HTTP host",
            &plugin.metadata().http_hosts,
            &e.spec.allow.http,
        ),
        (
            "AWS service",
            &plugin.metadata().aws_services,
            &e.spec.allow.aws,
        ),
    ] {
        for d in declared.iter().filter(|d| !allowed.contains(d)) {
            tracing::info!(
                plugin = e.spec.name.as_str(),
                "the plugin asks for {what} {d:?}, which the configuration does not allow"
            );
        }
    }
    Ok(plugin)
}

fn register(reg: &mut ProviderRegistry, name: &str, plugin: Plugin) {
    reg.register(
        name,
        Arc::new(move || Arc::new(PluginProvider::new(plugin.clone())) as Arc<dyn Provider>),
    );
}

/// The registry for `config`: the built-in providers plus its plugins, each of which must
/// match the hash recorded in the lock file.
pub fn registry(ctx: &Ctx, config: &Config) -> Result<ProviderRegistry, Diagnostics> {
    let entries = entries(ctx, config)?;
    let mut reg = ctx.registry.clone();
    terrane_provider_builtin::register_releases(
        &mut reg,
        Some(Arc::new(super::deliver::Releases { ctx: ctx.clone() })),
    );
    if entries.is_empty() {
        return Ok(reg);
    }
    let lock = LockFile::read(&ctx.dir)
        .map_err(|e| Diagnostics::from(Diagnostic::error("Invalid lock file", e)))?;
    let host = host()?;
    let mut diags = Diagnostics::new();
    for e in &entries {
        let Some(lock) = &lock else {
            diags.push(diag(
                e.req,
                "Plugin not trusted",
                format!("{LOCK_FILE} does not exist yet; run `terrane init` to record the plugins' hashes"),
            ));
            continue;
        };
        match load(host, e, Some(lock)) {
            Ok(p) => register(&mut reg, &e.spec.name, p),
            Err(d) => diags.push(d),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(reg)
}

/// `terrane init`: loads every plugin (compiling it into the cache), checks it, and records its
/// hash in the lock file. Returns a line per plugin.
pub fn init(ctx: &Ctx, config: &Config) -> Result<Vec<String>, Diagnostics> {
    let entries = entries(ctx, config)?;
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let host = host()?;
    let mut lock = LockFile::read(&ctx.dir)
        .map_err(|e| Diagnostics::from(Diagnostic::error("Invalid lock file", e)))?
        .unwrap_or_default();
    lock.version = 1;
    let mut lines = Vec::new();
    let mut diags = Diagnostics::new();
    for e in &entries {
        match load(host, e, None) {
            Ok(p) => {
                let m = p.metadata();
                let previous = lock.plugins.insert(
                    e.key.clone(),
                    LockedPlugin {
                        version: m.version.clone(),
                        contract: m.contract.clone(),
                        sha256: p.sha256().to_string(),
                    },
                );
                let change = match previous {
                    Some(old) if old.sha256 != p.sha256() => {
                        format!(" (was sha256 {})", old.sha256)
                    }
                    _ => String::new(),
                };
                lines.push(format!(
                    "- {}: {} {} v{} (contract {}), sha256 {}{change}",
                    e.spec.name,
                    e.key,
                    m.name,
                    m.version,
                    m.contract,
                    p.sha256()
                ));
            }
            Err(d) => diags.push(d),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let keep: std::collections::BTreeSet<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    lock.plugins.retain(|k, _| keep.contains(k.as_str()));
    lock.write(&ctx.dir)
        .map_err(|e| Diagnostics::from(Diagnostic::error("Failed to write the lock file", e)))?;
    Ok(lines)
}
