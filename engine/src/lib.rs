//! The Terrane engine: configuration loading, expression evaluation, the dependency graph,
//! planning and applying. It never depends on a concrete provider: the caller hands it a
//! [`terrane_core::ProviderRegistry`].

pub mod config;
pub mod eval;
pub mod refs;
pub mod source;
