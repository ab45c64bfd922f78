//! Terrane's WASM provider plugin host.
//!
//! Plugins are WebAssembly components (wasm32-wasip2) that implement the contract in
//! `plugins/wit/provider.wit`. This crate is the only one that depends on wasmtime. It
//! compiles plugins (caching the result on disk), checks their contract version, runs each
//! call in a sandboxed instance with a memory limit and a CPU deadline, grants capabilities
//! (HTTP to declared and allowed hosts, AWS requests it signs itself) and presents each plugin
//! to the engine as a [`terrane_core::Provider`].

mod bindings;
mod cache;
pub mod capabilities;
mod convert;
mod host;
pub mod limits;
pub mod lock;
mod output;
mod plugin;
mod provider;
pub mod testing;

pub use bindings::{CONTRACT, SUPPORTED_MAJORS};
pub use cache::CacheOutcome;
pub use capabilities::{Allow, AwsSigner, Granted, SignedAws, UnsignedAws};
pub use host::{HostOptions, PluginHost};
pub use limits::Limits;
pub use plugin::{Metadata, Plugin, PluginSpec};
pub use provider::PluginProvider;

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("cannot read plugin {plugin:?} from {file}: {message}")]
    Read {
        plugin: String,
        file: String,
        message: String,
    },
    #[error("plugin {plugin:?} ({file}) cannot be used: {message}")]
    Invalid {
        plugin: String,
        file: String,
        message: String,
    },
    #[error("plugin {plugin:?} ({file}) was built for plugin contract terrane:provider@{plugin_version}, which this Terrane does not speak (it speaks {host_versions}); use a build of the plugin for a supported contract, or a Terrane that speaks {plugin_version}")]
    Contract {
        plugin: String,
        file: String,
        plugin_version: String,
        host_versions: String,
    },
    #[error("{message}")]
    Untrusted { plugin: String, message: String },
    #[error("plugin host: {0}")]
    Host(String),
}
