//! Builds the example plugins (plugins/guest) for wasm32-wasip2 once per test process and
//! finds their `.wasm` files. Shared by the host's tests and the binary's.

#![allow(dead_code)] // each includer uses a part

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|p| p.join("plugins").join("guest").join("Cargo.toml").exists())
        .expect("the repository root is above the crate")
        .to_path_buf()
}

/// Where the guest workspace builds: beside the host build's target directory.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d).join("plugins"),
        None => repo_root().join("target").join("plugins"),
    }
}

/// A compiled-plugin cache shared by the tests of one target directory (compiling a component
/// with a debug build of wasmtime takes seconds; loading a cached one, milliseconds).
pub fn cache_dir() -> PathBuf {
    target_dir().join("compiled-cache")
}

/// The path of an example plugin's component, e.g. `plugin("random")`.
pub fn plugin(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let out = Command::new(cargo)
                .args(["build", "--target", "wasm32-wasip2", "--release", "--quiet", "--locked"])
                .arg("--manifest-path")
                .arg(repo_root().join("plugins/guest/Cargo.toml"))
                .env("CARGO_TARGET_DIR", target_dir())
                .env_remove("RUSTFLAGS")
                .output()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "building the example plugins failed (is the wasm32-wasip2 target installed? `rustup target add wasm32-wasip2`):\n{}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Ok(target_dir().join("wasm32-wasip2").join("release"))
        })
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"));
    let file = dir.join(format!("terrane_plugin_{}.wasm", name.replace('-', "_")));
    assert!(file.exists(), "{} was not built", file.display());
    file
}
