//! The configuration model: modules, variables, locals, resources, outputs, module calls and
//! provider blocks, as read from `*.tf` files. Expressions stay as parsed HCL (with their source
//! file) and are evaluated later by [`crate::eval`].

mod load;
mod types;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use terrane_core::{Mode, SourceRange, Type, Value};

pub use load::{load_config, load_var_file_values, parse_cli_value};
pub use types::parse_type;

use crate::source::SourceFile;

/// An expression together with the file it came from (for diagnostics).
#[derive(Debug, Clone)]
pub struct Expr {
    pub file: Arc<SourceFile>,
    pub expr: Arc<Expression>,
}

impl Expr {
    pub fn range(&self) -> Option<SourceRange> {
        use hcl_edit::Span;
        self.expr.span().map(|s| self.file.range(s))
    }
}

/// A whole configuration: the root module and, through module calls, its children.
#[derive(Debug)]
pub struct Config {
    pub root: Arc<ModuleConfig>,
    /// Every file read, in load order (used to fingerprint the configuration for saved plans).
    pub files: Vec<Arc<SourceFile>>,
}

impl Config {
    /// sha256 over every file's name and content: a saved plan is only applied to the
    /// configuration it was made from.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for f in &self.files {
            h.update(f.name.as_bytes());
            h.update([0]);
            h.update(f.text.as_bytes());
            h.update([0]);
        }
        hex::encode(h.finalize())
    }
}

#[derive(Debug, Default)]
pub struct ModuleConfig {
    pub dir: PathBuf,
    pub variables: BTreeMap<String, Variable>,
    pub locals: BTreeMap<String, Local>,
    pub resources: BTreeMap<(Mode, String, String), Arc<ResourceConfig>>,
    pub outputs: BTreeMap<String, Output>,
    pub module_calls: BTreeMap<String, ModuleCall>,
    pub providers: Vec<ProviderConfig>,
}

#[derive(Debug)]
pub struct Variable {
    pub name: String,
    pub ty: Option<Type>,
    pub default: Option<Value>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub nullable: bool,
    pub validations: Vec<Validation>,
    pub range: SourceRange,
}

#[derive(Debug)]
pub struct Validation {
    pub condition: Expr,
    pub error_message: Expr,
}

#[derive(Debug)]
pub struct Local {
    pub name: String,
    pub expr: Expr,
    pub range: SourceRange,
}

#[derive(Debug)]
pub struct Output {
    pub name: String,
    pub expr: Expr,
    pub sensitive: bool,
    pub description: Option<String>,
    pub depends_on: Vec<Expr>,
    pub range: SourceRange,
}

#[derive(Debug)]
pub struct ModuleCall {
    pub name: String,
    pub source: String,
    pub inputs: BTreeMap<String, Expr>,
    pub depends_on: Vec<Expr>,
    pub child: Arc<ModuleConfig>,
    pub range: SourceRange,
}

#[derive(Debug)]
pub struct ProviderConfig {
    pub name: String,
    pub alias: Option<String>,
    pub file: Arc<SourceFile>,
    pub body: Body,
    pub range: SourceRange,
}

impl ProviderConfig {
    /// `provider.aws` or `provider.aws.west`.
    pub fn key(&self) -> String {
        provider_key(&self.name, self.alias.as_deref())
    }
}

pub fn provider_key(name: &str, alias: Option<&str>) -> String {
    match alias {
        Some(a) => format!("provider.{name}.{a}"),
        None => format!("provider.{name}"),
    }
}

/// Which attributes `ignore_changes` covers.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum IgnoreChanges {
    #[default]
    None,
    All,
    Attrs(Vec<String>),
}

#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    pub create_before_destroy: bool,
    pub prevent_destroy: bool,
    pub ignore_changes: IgnoreChanges,
    pub replace_triggered_by: Vec<Expr>,
}

/// Meta-arguments that are not part of a resource's own configuration.
pub const META_ARGS: &[&str] = &[
    "count",
    "for_each",
    "depends_on",
    "provider",
    "lifecycle",
    "provisioner",
    "connection",
];

#[derive(Debug)]
pub struct ResourceConfig {
    pub mode: Mode,
    pub ty: String,
    pub name: String,
    pub file: Arc<SourceFile>,
    pub block: Block,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Expr>,
    /// Explicit `provider = aws.west` as (name, alias).
    pub provider: Option<(String, Option<String>)>,
    pub lifecycle: Lifecycle,
    /// The block header (`resource "t" "n"`), for diagnostics about the whole block.
    pub range: SourceRange,
}

impl ResourceConfig {
    /// The provider local name: explicit, or the type's prefix (`aws_vpc` -> `aws`).
    pub fn provider_name(&self) -> &str {
        match &self.provider {
            Some((n, _)) => n,
            None => implied_provider(&self.ty),
        }
    }

    pub fn provider_key(&self) -> String {
        provider_key(
            self.provider_name(),
            self.provider.as_ref().and_then(|(_, a)| a.as_deref()),
        )
    }

    /// The attributes and blocks that make up the resource's own configuration.
    pub fn body(&self) -> &Body {
        &self.block.body
    }
}

/// The provider a resource type belongs to when none is named: the part before the first `_`.
pub fn implied_provider(ty: &str) -> &str {
    ty.split('_').next().unwrap_or(ty)
}
