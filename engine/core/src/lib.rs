//! Shared vocabulary of Terrane.
//!
//! This crate knows nothing about HCL, SQLite, concrete providers, aws-sdk or wasmtime. Everything
//! else speaks in its types: [`Value`], addresses ([`InstanceAddr`]), schemas ([`ResourceSchema`]),
//! [`Diagnostic`]s, and the [`Provider`] trait that the binary uses to hand providers to the engine.

pub mod addr;
pub mod delivery;
pub mod diag;
pub mod discover;
pub mod probe;
pub mod provider;
pub mod redact;
pub mod schema;
pub mod sign;
pub mod text;
pub mod time;
pub mod units;
pub mod value;

pub use addr::{InstanceAddr, InstanceKey, Mode, ModulePath, ResourceAddr};
pub use diag::{Diagnostic, Diagnostics, Severity, SourceRange};
pub use discover::{
    DeletionCycle, DeletionGraph, DeletionNode, DeletionRule, DiscoverFilter, DiscoveredObject,
    FoundBy, NameMatch, Reference,
};
pub use provider::{
    ApplyRequest, NoProgress, PlanRequest, PlanResponse, Progress, ProgressReport, Provider,
    ProviderError, ProviderFactory, ProviderRegistry, Usage,
};
pub use schema::{AttrPath, Attribute, BlockSchema, Nesting, ProviderSchema, ResourceSchema, Type};
pub use value::{Value, ValueMap};
