//! The configuration model: modules, variables, locals, resources, outputs, module calls and
//! provider blocks, as read from `*.tf` files. Expressions stay as parsed HCL (with their source
//! file) and are evaluated later by [`crate::eval`].

mod json;
mod load;
mod split;
mod types;
mod vars;
pub mod version;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use terrane_core::{InstanceAddr, Mode, ModulePath, ResourceAddr, SourceRange, Type, Value};

pub use load::{load_backend, load_config};
pub use types::{parse_type, parse_type_constraint, TypeDefaults};
pub use vars::{load_var_file_values, parse_cli_value};

/// Checks that `text` is valid HCL (for `fmt`, which formats only what parses).
pub fn check_syntax(name: &str, text: &str) -> Result<(), terrane_core::Diagnostics> {
    let file = crate::source::SourceFile::new(name, text.to_string());
    load::parse_file(&file).map(|_| ())
}

use crate::source::SourceFile;

/// An expression together with the file it came from (for diagnostics).
#[derive(Debug, Clone)]
pub struct Expr {
    pub file: Arc<SourceFile>,
    pub expr: Arc<Expression>,
    /// Added to the expression's spans (non-zero for blocks re-parsed on their own).
    pub offset: usize,
}

impl Expr {
    pub fn new(file: &Arc<SourceFile>, expr: &Expression) -> Expr {
        Expr::at(file, expr, 0)
    }

    /// An expression whose spans start at `offset` in `file`.
    pub fn at(file: &Arc<SourceFile>, expr: &Expression, offset: usize) -> Expr {
        Expr {
            file: file.clone(),
            expr: Arc::new(expr.clone()),
            offset,
        }
    }

    pub fn range(&self) -> Option<SourceRange> {
        use hcl_edit::Span;
        self.expr
            .span()
            .map(|s| self.file.range(s.start + self.offset..s.end + self.offset))
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
    /// `required_providers` entries of every module, root first.
    pub fn required_providers(&self) -> Vec<&RequiredProvider> {
        fn walk<'a>(m: &'a ModuleConfig, out: &mut Vec<&'a RequiredProvider>) {
            out.extend(m.required_providers.values());
            for c in m.module_calls.values() {
                walk(&c.child, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

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
    /// `moved` blocks, in the order written.
    pub moved: Vec<Moved>,
    /// `removed` blocks.
    pub removed: Vec<Removed>,
    /// `import` blocks (the root module only), in the order written; the ones with
    /// `for_each` or an `id` computed from variables and locals are in `import_exprs` until the
    /// session evaluates them (`crate::expand::expand_imports`) and adds them here.
    pub imports: Vec<ImportBlock>,
    pub import_exprs: Vec<ImportExpr>,
    /// `check` blocks by name (their scoped data sources are among `resources`).
    pub checks: BTreeMap<String, Check>,
    /// The (type, name) of the data sources declared inside `check` blocks: one that cannot
    /// be read is a warning, not an error.
    pub check_scoped: std::collections::BTreeSet<(String, String)>,
    pub providers: Vec<ProviderConfig>,
    /// `terraform { required_providers { name = { source = ..., version = ... } } }`.
    pub required_providers: BTreeMap<String, RequiredProvider>,
    /// `terraform { backend "KIND" { ... } }` (read from the root module only).
    pub backend: Option<BackendConfig>,
}

/// Where the state lives: `terraform { backend "KIND" { ... } }`. The engine does not interpret
/// it: the binary opens the store it names (`local`: the SQLite file; `pg`: PostgreSQL).
#[derive(Debug, Clone)]
pub struct BackendConfig {
    pub kind: String,
    /// Its arguments, evaluated statically (a backend cannot refer to anything).
    pub settings: BTreeMap<String, Value>,
    pub range: SourceRange,
}

/// One entry of `required_providers`. The engine does not interpret it: the binary decides
/// what a source means (a native provider such as `hashicorp/aws`, or a `.wasm` plugin file).
#[derive(Debug, Clone)]
pub struct RequiredProvider {
    pub name: String,
    pub source: Option<String>,
    pub version: Option<String>,
    /// Every other key of the entry (plugin grants and limits), evaluated statically.
    pub settings: BTreeMap<String, Value>,
    /// The directory of the module that declares it (relative sources are relative to it).
    pub module_dir: PathBuf,
    pub range: SourceRange,
}

#[derive(Debug)]
pub struct Variable {
    pub name: String,
    pub ty: Option<Type>,
    /// The defaults of the type's `optional(T, default)` attributes.
    pub defaults: TypeDefaults,
    pub default: Option<Value>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub nullable: bool,
    pub validations: Vec<Validation>,
    pub range: SourceRange,
}

impl Variable {
    /// `raw` converted to the variable's type, with the defaults of its optional attributes.
    pub fn convert(&self, raw: &Value) -> Result<Value, String> {
        match &self.ty {
            Some(t) => self.defaults.convert(t, raw),
            None => Ok(raw.clone()),
        }
    }
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
    pub preconditions: Vec<Condition>,
    pub range: SourceRange,
}

/// A `moved` block: objects that were at `from` are now at `to` (addresses relative to the
/// module that declares it).
#[derive(Debug, Clone)]
pub struct Moved {
    pub from: MoveAddr,
    pub to: MoveAddr,
    pub range: SourceRange,
}

/// An `import` block: the existing object `id` becomes `to` when the plan is applied.
#[derive(Debug, Clone)]
pub struct ImportBlock {
    pub to: InstanceAddr,
    pub id: String,
    /// `provider = aws.west`, as a configuration key: it must be the resource's.
    pub provider: Option<String>,
    pub range: SourceRange,
}

/// An `import` block whose instance key or id are expressions of variables, locals and (with
/// `for_each`) `each`: `import { for_each = var.buckets  to = aws_s3_bucket.b[each.key]
/// id = each.value }`.
#[derive(Debug, Clone)]
pub struct ImportExpr {
    pub for_each: Option<Expr>,
    pub resource: terrane_core::ResourceAddr,
    /// The index in `to` (`[each.key]`); `None` for a resource without one.
    pub key: Option<Expr>,
    pub id: Expr,
    pub provider: Option<String>,
    pub range: SourceRange,
}

/// A `check` block: assertions about the infrastructure that warn when they fail, at the end
/// of a plan (when their values are known) and of an apply; they never stop a run.
#[derive(Debug)]
pub struct Check {
    pub name: String,
    pub asserts: Vec<Condition>,
    pub range: SourceRange,
}

/// A `removed` block: the objects of `from` (a resource or a module call, no longer in the
/// configuration) are destroyed, or with `lifecycle { destroy = false }` only forgotten.
#[derive(Debug, Clone)]
pub struct Removed {
    pub from: MoveAddr,
    pub destroy: bool,
    pub range: SourceRange,
}

/// One side of a `moved` block (or the `from` of a `removed` one).
#[derive(Debug, Clone, PartialEq)]
pub enum MoveAddr {
    /// A module call or one of its instances: `module.a`, `module.a["k"]`.
    Module(ModulePath),
    /// Every instance of a resource: `aws_x.a` (the module part, if any, relative).
    Resource(ResourceAddr),
    /// One resource instance: `aws_x.a[0]`, `aws_x.a["k"]`.
    Instance(InstanceAddr),
}

impl std::fmt::Display for MoveAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MoveAddr::Module(m) => write!(f, "{m}"),
            MoveAddr::Resource(r) => write!(f, "{r}"),
            MoveAddr::Instance(i) => write!(f, "{i}"),
        }
    }
}

#[derive(Debug)]
pub struct ModuleCall {
    pub name: String,
    pub source: String,
    pub inputs: BTreeMap<String, Expr>,
    pub depends_on: Vec<Expr>,
    /// `providers = { aws = aws.west }`: the child's provider configuration key
    /// (`provider.aws`) -> the caller's (`provider.aws.west`), with the entry's range.
    pub providers: Vec<(String, String, SourceRange)>,
    /// `count` or `for_each`: evaluated before the graph is built (`crate::expand`).
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
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
    /// Where the block's text starts in `file` (its spans are relative to it).
    pub offset: usize,
}

impl ProviderConfig {
    /// `provider.aws` or `provider.aws.west`.
    pub fn key(&self) -> String {
        provider_key(&self.name, self.alias.as_deref())
    }
}

pub fn provider_key(name: &str, alias: Option<&str>) -> String {
    // Called for every resource several times a run: no formatting machinery.
    let mut k = String::with_capacity(9 + name.len() + alias.map_or(0, |a| a.len() + 1));
    k.push_str("provider.");
    k.push_str(name);
    if let Some(a) = alias {
        k.push('.');
        k.push_str(a);
    }
    k
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
    pub preconditions: Vec<Condition>,
    pub postconditions: Vec<Condition>,
}

/// A `precondition` or `postcondition` block (see [`crate::conditions`]).
#[derive(Debug, Clone)]
pub struct Condition {
    pub condition: Expr,
    pub error_message: Expr,
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
    /// The whole block in `file`. The parsed block is not kept (at 100,000 resources the
    /// syntax trees would dominate memory): [`ResourceConfig::parse`] parses it again on demand.
    pub span: std::ops::Range<usize>,
    /// The block header (`resource "t" "n"`), for diagnostics about the whole block.
    pub header: std::ops::Range<usize>,
    /// Explicit `provider = aws.west` as (name, alias).
    pub provider: Option<(String, Option<String>)>,
    pub lifecycle: Lifecycle,
    /// `provisioner "local-exec"` blocks, in order.
    pub provisioners: Vec<Provisioner>,
    /// What the block refers to (its body, provisioners, count, for_each and depends_on;
    /// lifecycle conditions are separate), with spans in the file: collected while the block is
    /// parsed for loading, so that building the graph does not parse it again.
    pub refs: Vec<crate::refs::Ref>,
}

/// When a provisioner runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// After the object is created (not after updates), as in Terraform.
    Create,
    /// Before the object is destroyed.
    Destroy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// The resource fails (a created object is recorded tainted; a destroy stops).
    Fail,
    /// The failure is reported and the apply goes on as if it had passed.
    Continue,
}

/// One `provisioner "local-exec"` block. Its arguments are evaluated when it runs, from the
/// block (found again by `index` among the resource's provisioner blocks).
#[derive(Debug, Clone)]
pub struct Provisioner {
    pub index: usize,
    pub when: When,
    pub on_failure: OnFailure,
    pub range: SourceRange,
}

/// A resource block parsed on its own; spans are relative to `offset` in the file.
pub struct ParsedBlock {
    pub block: Block,
    pub offset: usize,
    file: Arc<SourceFile>,
}

impl ParsedBlock {
    /// Where the argument `name` is written, if it is.
    pub fn attr_range(&self, name: &str) -> Option<SourceRange> {
        self.expr(name).and_then(|e| e.range())
    }

    fn expr(&self, name: &str) -> Option<Expr> {
        self.block.body.get_attribute(name).map(|a| Expr {
            file: self.file.clone(),
            expr: Arc::new(a.value.clone()),
            offset: self.offset,
        })
    }
    pub fn count(&self) -> Option<Expr> {
        self.expr("count")
    }
    pub fn for_each(&self) -> Option<Expr> {
        self.expr("for_each")
    }
    pub fn depends_on(&self) -> Vec<Expr> {
        match self
            .block
            .body
            .get_attribute("depends_on")
            .map(|a| &a.value)
        {
            Some(Expression::Array(arr)) => arr
                .iter()
                .map(|e| Expr {
                    file: self.file.clone(),
                    expr: Arc::new(e.clone()),
                    offset: self.offset,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
    /// The attributes and blocks that make up the resource's own configuration (and meta-arguments).
    pub fn body(&self) -> &Body {
        &self.block.body
    }
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

    pub fn range(&self) -> SourceRange {
        self.file.range(self.header.clone())
    }

    /// Parses the block again (it parsed when the configuration was loaded, so this cannot fail).
    pub fn parse(&self) -> ParsedBlock {
        let text = &self.file.text[self.span.clone()];
        let body =
            hcl_edit::parser::parse_body(text).expect("a block that parsed once parses again");
        let block = body
            .into_iter()
            .find_map(|s| s.into_block().ok())
            .expect("the span holds one block");
        ParsedBlock {
            block,
            offset: self.span.start,
            file: self.file.clone(),
        }
    }
}

/// The provider a resource type belongs to when none is named: the part before the first `_`.
pub fn implied_provider(ty: &str) -> &str {
    ty.split('_').next().unwrap_or(ty)
}
