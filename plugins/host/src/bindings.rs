//! Host-side bindings of the plugin contract (`plugins/wit/provider.wit`), one set per contract
//! version this host speaks.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
});

pub use terrane::provider::host::LogLevel;
pub use terrane::provider::types as wit;

/// The optional `discovery` export (contract 0.1.1, world `discoverable-plugin`), bound on its
/// own: a plugin built against 0.1.0 does not have it and still loads.
pub mod discoverable {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "discoverable-plugin",
        with: {
            "terrane:provider/types": super::terrane::provider::types,
            "terrane:provider/host": super::terrane::provider::host,
            "terrane:provider/provider": super::exports::terrane::provider::provider,
        },
    });
    pub use exports::terrane::provider::discovery as wit;
}

/// Contract versions this host speaks: a plugin's `terrane:provider` export must have one of
/// these majors (for 0.x versions the minor is the major).
pub const CONTRACT: &str = "0.1.1";
pub const SUPPORTED_MAJORS: &[&str] = &["0.1"];

/// The compatibility class of a semantic version: `1.4.2` -> `1`, `0.1.3` -> `0.1`.
pub fn major_of(version: &str) -> String {
    let mut parts = version.split('.');
    match (parts.next(), parts.next()) {
        (Some("0"), Some(minor)) => format!("0.{minor}"),
        (Some(major), _) => major.to_string(),
        _ => version.to_string(),
    }
}
