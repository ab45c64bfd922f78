//! Compiled components on disk, keyed by the plugin's sha256 and the engine's compatibility
//! hash (which covers the wasmtime version and every setting that changes the machine code), so
//! that the second run loads native code instead of compiling again.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::component::Component;
use wasmtime::Engine;

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Compiled now and written to the cache.
    Compiled,
    /// Loaded from the cache.
    Hit,
    /// Compiled now; no cache directory is configured (or it could not be written).
    Uncached,
}

fn artifact_path(dir: &Path, engine: &Engine, sha256: &str) -> PathBuf {
    // FNV-1a over the engine's compatibility hash: stable for a given wasmtime build and config.
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.0 ^= u64::from(*b);
                self.0 = self.0.wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    engine.precompile_compatibility_hash().hash(&mut h);
    dir.join(format!("{sha256}-{:016x}.cwasm", h.finish()))
}

/// Loads the compiled form of `wasm` from `dir`, or compiles it and stores it there.
pub fn load(
    engine: &Engine,
    dir: Option<&Path>,
    wasm: &[u8],
    sha256: &str,
) -> wasmtime::Result<(Component, CacheOutcome)> {
    let Some(dir) = dir else {
        return Ok((Component::new(engine, wasm)?, CacheOutcome::Uncached));
    };
    let path = artifact_path(dir, engine, sha256);
    if let Ok(bytes) = std::fs::read(&path) {
        if let Some(c) = deserialize(engine, &bytes) {
            return Ok((c, CacheOutcome::Hit));
        }
        tracing::warn!(path = %path.display(), "compiled plugin cache entry is unusable; compiling again");
    }
    let compiled = engine.precompile_component(wasm)?;
    let component = deserialize(engine, &compiled)
        .ok_or_else(|| wasmtime::Error::msg("a component compiled just now does not load"))?;
    let written = std::fs::create_dir_all(dir).and_then(|_| {
        // Write then rename, so that a concurrent run never reads half a file.
        let tmp = dir.join(format!(".{sha256}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, &compiled)?;
        std::fs::rename(&tmp, &path)
    });
    match written {
        Ok(()) => Ok((component, CacheOutcome::Compiled)),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the compiled plugin cache");
            Ok((component, CacheOutcome::Uncached))
        }
    }
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, bytes: &[u8]) -> Option<Component> {
    // SAFETY: wasmtime requires that the bytes were produced by `precompile_component` of a
    // compatible engine and not tampered with. They come from this host's own cache directory,
    // written by the function above under a name that includes the engine's compatibility hash;
    // wasmtime additionally checks the header and refuses artifacts from another configuration.
    unsafe { Component::deserialize(engine, bytes) }.ok()
}
