//! Reading a module directory (`*.tf`) into [`ModuleConfig`], with diagnostics for every mistake.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use hcl_edit::Span;
use terrane_core::{Diagnostic, Diagnostics, Mode, SourceRange, Value};

use super::*;
use crate::eval::eval_static_at;
use crate::source::SourceFile;

mod backend;
mod lifecycle;
mod named;
mod override_files;
mod providers;
mod provisioners;
mod refactor;

pub use backend::load_backend;

const MAX_MODULE_DEPTH: usize = 32;

struct Loader {
    files: Vec<Arc<SourceFile>>,
    diags: Diagnostics,
    /// Where the item being loaded starts in its file (items are parsed one by one).
    off: usize,
}

/// Loads the module in `dir` and every local module it calls.
pub fn load_config(dir: &Path) -> Result<(Config, Diagnostics), Diagnostics> {
    let mut l = Loader::new();
    let root = l.load_module(dir, 0);
    if l.diags.has_errors() {
        return Err(l.diags);
    }
    Ok((
        Config {
            root: Arc::new(root),
            files: l.files,
        },
        l.diags,
    ))
}

/// `override.tf`, `*_override.tf` (and their `.tf.json` forms).
fn is_override(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".tf.json")
        .or_else(|| name.strip_suffix(".tf"))
        .unwrap_or(&name);
    stem == "override" || stem.ends_with("_override")
}

pub(super) fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let rel = cwd.as_deref().and_then(|c| path.strip_prefix(c).ok());
    rel.unwrap_or(path).display().to_string()
}

/// Removes `.` and resolves `..` lexically (module paths are shown to users).
fn normalize_path(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

pub(crate) fn span_range(
    file: &SourceFile,
    span: Option<std::ops::Range<usize>>,
) -> Option<SourceRange> {
    span.map(|s| file.range(s))
}

pub(super) fn parse_file(file: &Arc<SourceFile>) -> Result<Body, Diagnostics> {
    hcl_edit::parser::parse_body(&file.text).map_err(|e| {
        let loc = e.location();
        Diagnostic::error("Invalid HCL syntax", e.message().to_string())
            .with_range(Some(file.range_at(loc.line(), loc.column())))
            .into()
    })
}

fn block_header_range(file: &SourceFile, b: &Block, off: usize) -> SourceRange {
    let start = b.ident.span().map(|s| s.start).unwrap_or(0);
    let end = b
        .labels
        .last()
        .and_then(|l| l.span())
        .map(|s| s.end)
        .unwrap_or_else(|| b.ident.span().map(|s| s.end).unwrap_or(start + 1));
    file.range(start + off..end + off)
}

/// What a resource body refers to, spans made relative to the file (`off`: where the item
/// starts in it).
fn resource_refs(body: &Body, off: usize) -> Vec<crate::refs::Ref> {
    let mut c = crate::refs::RefCollector::new();
    c.body(body, META_ARGS);
    // What provisioners read besides self is needed before they run.
    for b in body.get_blocks("provisioner") {
        c.body(&b.body, &["when", "on_failure"]);
    }
    for a in ["count", "for_each", "depends_on"] {
        if let Some(attr) = body.get_attribute(a) {
            c.expr(&attr.value);
        }
    }
    let mut refs = c.refs;
    for r in &mut refs {
        r.span = r.span.take().map(|s| s.start + off..s.end + off);
    }
    refs.shrink_to_fit();
    refs
}

fn label_strings(b: &Block) -> Vec<String> {
    b.labels.iter().map(|l| l.as_str().to_string()).collect()
}

/// Top-level items at which a file's resources are loaded on two threads.
const PARALLEL_AT: usize = 1024;

/// Splits a file's items into those loaded here (in order) and resource or data blocks from
/// the second half of a large file, loaded on another thread: they depend on nothing else in
/// the module, and a duplicate among them is found when the halves are merged.
fn split_resource_items(
    text: &str,
    items: Vec<std::ops::Range<usize>>,
) -> (Vec<std::ops::Range<usize>>, Vec<std::ops::Range<usize>>) {
    let parallel = std::thread::available_parallelism().map_or(1, |n| n.get()) > 1;
    if !parallel || items.len() < PARALLEL_AT {
        return (items, Vec::new());
    }
    let is_resource = |r: &std::ops::Range<usize>| {
        let t = &text[r.clone()];
        ["resource", "data"].iter().any(|k| {
            t.strip_prefix(k)
                .is_some_and(|rest| rest.starts_with([' ', '\t', '"']))
        })
    };
    let half = items.len() / 2;
    let (mut here, mut there) = (Vec::with_capacity(half), Vec::with_capacity(half));
    for (i, r) in items.into_iter().enumerate() {
        if i >= half && is_resource(&r) {
            there.push(r);
        } else {
            here.push(r);
        }
    }
    (here, there)
}

fn duplicate_resource(key: &(Mode, String, String), range: SourceRange) -> Diagnostic {
    let (mode, ty, name) = key;
    let what = if *mode == Mode::Data {
        "data"
    } else {
        "resource"
    };
    Diagnostic::error(
        format!("Duplicate {what} \"{ty}\" configuration"),
        format!("A {what} named \"{ty}\" \"{name}\" was already declared. Names must be unique per type in a module."),
    )
    .with_range(Some(range))
}

impl Loader {
    fn err(
        &mut self,
        file: &SourceFile,
        span: Option<std::ops::Range<usize>>,
        summary: &str,
        detail: String,
    ) {
        let r = self.sr(file, span);
        self.diags
            .push(Diagnostic::error(summary, detail).with_range(r));
    }

    /// A span of the current item as a file location.
    fn sr(&self, file: &SourceFile, span: Option<std::ops::Range<usize>>) -> Option<SourceRange> {
        span.map(|s| file.range(s.start + self.off..s.end + self.off))
    }

    fn load_module(&mut self, dir: &Path, depth: usize) -> ModuleConfig {
        let mut m = ModuleConfig {
            dir: dir.to_path_buf(),
            ..Default::default()
        };
        let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    (p.extension().is_some_and(|x| x == "tf")
                        || p.to_string_lossy().ends_with(".tf.json"))
                        && p.is_file()
                })
                .collect(),
            Err(e) => {
                self.diags.push(Diagnostic::error(
                    "Failed to read module directory",
                    format!("{}: {e}", dir.display()),
                ));
                return m;
            }
        };
        paths.sort();
        if paths.is_empty() && depth == 0 {
            self.diags.push(Diagnostic::error(
                "No configuration files",
                format!("{} contains no .tf files.", display_path(dir)),
            ));
        }
        let mut texts: Vec<(PathBuf, String)> = Vec::new();
        let mut overrides: Vec<(PathBuf, String)> = Vec::new();
        for p in paths {
            let text = match std::fs::read_to_string(&p) {
                Ok(t) => t,
                Err(e) => {
                    self.diags.push(Diagnostic::error(
                        "Failed to read file",
                        format!("{}: {e}", p.display()),
                    ));
                    continue;
                }
            };
            // JSON syntax: loaded as the native text it stands for.
            let text = if p.to_string_lossy().ends_with(".tf.json") {
                match super::json::json_to_hcl(&text) {
                    Ok(native) => native,
                    Err((message, line, col)) => {
                        let json_file = SourceFile::new(display_path(&p), text);
                        self.diags.push(
                            Diagnostic::error("Invalid JSON configuration", message)
                                .with_range(Some(json_file.range_at(line, col))),
                        );
                        continue;
                    }
                }
            } else {
                text
            };
            if is_override(&p) {
                overrides.push((p, text));
            } else {
                texts.push((p, text));
            }
        }
        // override.tf and *_override.tf: merged into the blocks they name, last.
        self.diags
            .extend(override_files::apply(&mut texts, &overrides));
        for (p, text) in texts {
            let file = SourceFile::new(display_path(&p), text);
            self.files.push(file.clone());
            match super::split::split_top_level(&file.text) {
                Some(items) => {
                    let (here, there) = split_resource_items(&file.text, items);
                    if there.is_empty() {
                        self.load_items(&mut m, &file, here, depth);
                    } else {
                        // The other half of a large file's resources is loaded on another
                        // thread (each thread frees the syntax trees it made).
                        let mut other = Loader::new();
                        let mut theirs = ModuleConfig::default();
                        std::thread::scope(|s| {
                            let (other, theirs, file) = (&mut other, &mut theirs, &file);
                            s.spawn(move || other.load_items(theirs, file, there, depth));
                            self.load_items(&mut m, file, here, depth);
                        });
                        self.diags.extend(other.diags);
                        for (key, rc) in std::mem::take(&mut theirs.resources) {
                            match m.resources.entry(key) {
                                std::collections::btree_map::Entry::Occupied(e) => {
                                    self.diags.push(duplicate_resource(e.key(), rc.range()))
                                }
                                std::collections::btree_map::Entry::Vacant(e) => {
                                    e.insert(rc);
                                }
                            }
                        }
                    }
                }
                None => match parse_file(&file) {
                    Ok(body) => self.load_body(&mut m, &file, body, depth),
                    Err(d) => self.diags.extend(d),
                },
            }
        }
        m
    }

    fn new() -> Loader {
        Loader {
            files: Vec::new(),
            diags: Diagnostics::new(),
            off: 0,
        }
    }

    /// Parses and loads the given items of `file`, in order.
    fn load_items(
        &mut self,
        m: &mut ModuleConfig,
        file: &Arc<SourceFile>,
        items: Vec<std::ops::Range<usize>>,
        depth: usize,
    ) {
        for item in items {
            match hcl_edit::parser::parse_body(&file.text[item.clone()]) {
                Ok(body) => {
                    self.off = item.start;
                    self.load_body(m, file, body, depth);
                    self.off = 0;
                }
                Err(e) => {
                    let at = item.start + e.location().offset();
                    self.diags.push(
                        Diagnostic::error("Invalid HCL syntax", e.message().to_string())
                            .with_range(Some(file.range(at..at + 1))),
                    );
                }
            }
        }
    }

    fn load_body(
        &mut self,
        m: &mut ModuleConfig,
        file: &Arc<SourceFile>,
        body: Body,
        depth: usize,
    ) {
        for s in body.into_iter() {
            let b = match s {
                Structure::Block(b) => b,
                Structure::Attribute(a) => {
                    self.err(
                        file,
                        a.key.span(),
                        "Unsupported argument",
                        format!(
                            "An argument named {:?} is not expected at the top level of a module.",
                            a.key.value().as_str()
                        ),
                    );
                    continue;
                }
            };
            let labels = label_strings(&b);
            let kind = b.ident.value().as_str().to_string();
            let want = match kind.as_str() {
                "resource" | "data" => 2,
                "variable" | "output" | "module" | "provider" | "check" => 1,
                "locals" | "terraform" | "moved" | "removed" | "import" => 0,
                _ => {
                    self.err(
                        file,
                        b.ident.span(),
                        "Unsupported block type",
                        format!("Blocks of type {kind:?} are not expected here. Expected one of: resource, data, variable, locals, output, module, provider, terraform, moved, removed, check, import."),
                    );
                    continue;
                }
            };
            if labels.len() != want {
                self.err(
                    file,
                    b.ident.span(),
                    "Wrong number of block labels",
                    format!(
                        "A {kind} block takes {want} label(s), got {}.",
                        labels.len()
                    ),
                );
                continue;
            }
            match kind.as_str() {
                "resource" => self.resource(m, file, b, Mode::Managed, labels),
                "data" => self.resource(m, file, b, Mode::Data, labels),
                "variable" => self.variable(m, file, b, labels),
                "locals" => self.locals(m, file, b),
                "output" => self.output(m, file, b, labels),
                "module" => self.module_call(m, file, b, labels, depth),
                "provider" => self.provider(m, file, b, labels),
                "moved" => self.moved(m, file, b),
                "removed" => self.removed(m, file, b),
                "import" => self.import_block(m, file, b, depth),
                "check" => {
                    let name = labels[0].clone();
                    self.check_block(m, file, b, name)
                }
                _ => self.terraform_block(m, file, b),
            }
        }
    }

    fn expr(&self, file: &Arc<SourceFile>, a: &Attribute) -> Expr {
        Expr::at(file, &a.value, self.off)
    }

    fn static_value(&mut self, file: &Arc<SourceFile>, a: &Attribute) -> Option<Value> {
        match eval_static_at(&a.value, file, self.off) {
            Ok(v) => Some(v),
            Err(d) => {
                self.diags.extend(d);
                None
            }
        }
    }

    fn static_bool(&mut self, file: &Arc<SourceFile>, a: &Attribute) -> bool {
        match self.static_value(file, a) {
            Some(Value::Bool(b)) => b,
            Some(_) => {
                self.err(
                    file,
                    a.value.span(),
                    "Invalid value",
                    format!("{} must be true or false.", a.key.value().as_str()),
                );
                false
            }
            None => false,
        }
    }

    fn depends_on(&mut self, file: &Arc<SourceFile>, a: &Attribute) -> Vec<Expr> {
        match &a.value {
            Expression::Array(arr) => arr.iter().map(|e| Expr::at(file, e, self.off)).collect(),
            _ => {
                self.err(
                    file,
                    a.value.span(),
                    "Invalid depends_on",
                    "depends_on takes a list of resource or module references.".into(),
                );
                Vec::new()
            }
        }
    }

    fn resource(
        &mut self,
        m: &mut ModuleConfig,
        file: &Arc<SourceFile>,
        b: Block,
        mode: Mode,
        labels: Vec<String>,
    ) {
        let (ty, name) = (labels[0].clone(), labels[1].clone());
        let mut has_count = None;
        let mut has_for_each = false;
        let mut provider = None;
        let mut lifecycle = Lifecycle::default();
        let mut provisioners = Vec::new();
        let mut provisioner_count = 0;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.value().as_str() {
                    "count" => has_count = Some(a.key.span()),
                    "for_each" => has_for_each = true,
                    "depends_on" => {
                        self.depends_on(file, a);
                    }
                    "provider" => provider = self.provider_ref(file, a),
                    _ => {}
                },
                Structure::Block(lb) if lb.ident.value().as_str() == "lifecycle" => {
                    lifecycle = self.lifecycle(file, lb);
                }
                Structure::Block(pb) if pb.ident.value().as_str() == "provisioner" => {
                    if mode == Mode::Data {
                        self.err(
                            file,
                            pb.ident.span(),
                            "Unsupported block type",
                            "Data sources have no provisioners.".into(),
                        );
                    } else if let Some(p) = self.provisioner(file, pb, provisioner_count) {
                        provisioners.push(p);
                    }
                    provisioner_count += 1;
                }
                _ => {}
            }
        }
        if let (Some(span), true) = (has_count, has_for_each) {
            self.err(file, span, "Invalid combination of \"count\" and \"for_each\"", "The \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used.".into());
        }
        let key = (mode, ty.clone(), name.clone());
        if m.resources.contains_key(&key) {
            self.diags.push(duplicate_resource(
                &key,
                block_header_range(file, &b, self.off),
            ));
            return;
        }
        let start = b.ident.span().map(|s| s.start).unwrap_or(0);
        let header = start
            ..b.labels
                .last()
                .and_then(|l| l.span())
                .map(|s| s.end)
                .unwrap_or(start + 1);
        let span = b.span().unwrap_or(header.clone());
        let refs = resource_refs(&b.body, self.off);
        let (header, span) = (
            header.start + self.off..header.end + self.off,
            span.start + self.off..span.end + self.off,
        );
        m.resources.insert(
            key,
            Arc::new(ResourceConfig {
                mode,
                ty,
                name,
                file: file.clone(),
                span,
                header,
                provider,
                lifecycle,
                provisioners,
                refs,
            }),
        );
    }

    fn provider_ref(
        &mut self,
        file: &Arc<SourceFile>,
        a: &Attribute,
    ) -> Option<(String, Option<String>)> {
        let parts = crate::refs::traversal_names(&a.value);
        match parts.as_deref() {
            Some([n]) => Some((n.clone(), None)),
            Some([n, alias]) => Some((n.clone(), Some(alias.clone()))),
            _ => {
                self.err(
                    file,
                    a.value.span(),
                    "Invalid provider reference",
                    "Expected a provider reference such as aws or aws.west.".into(),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` resources, the second half's refer to the first half's, with a variable in the
    /// second half; `extra` blocks are appended.
    fn big(n: usize, extra: &str) -> String {
        let mut s = String::new();
        for i in 0..n {
            if i == n * 3 / 4 {
                s.push_str("variable \"late\" {\n  default = 1\n}\n\n");
            }
            if i < n / 2 {
                s.push_str(&format!(
                    "resource \"terraform_data\" \"r{i}\" {{\n  input = {i}\n}}\n\n"
                ));
            } else {
                s.push_str(&format!(
                    "resource \"terraform_data\" \"r{i}\" {{\n  input = terraform_data.r{}.id\n}}\n\n",
                    i - n / 2
                ));
            }
        }
        s + extra
    }

    fn load(text: &str) -> Result<(Config, Diagnostics), Diagnostics> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), text).unwrap();
        load_config(dir.path())
    }

    #[test]
    fn a_large_file_loads_on_two_threads_as_it_would_on_one() {
        let n = 2 * PARALLEL_AT;
        let (cfg, _) = load(&big(n, "data \"terraform_data\" \"d\" {\n}\n")).unwrap();
        let m = &cfg.root;
        assert_eq!(m.resources.len(), n + 1);
        assert!(m.variables.contains_key("late"));
        let last = &m.resources[&(
            Mode::Managed,
            "terraform_data".into(),
            format!("r{}", n - 1),
        )];
        // Spans are the file's, wherever the block was loaded.
        let text = &cfg.files[0].text;
        assert!(text[last.span.clone()]
            .starts_with(&format!("resource \"terraform_data\" \"r{}\"", n - 1)));
        assert_eq!(last.refs.len(), 1);
        assert_eq!(
            last.range().line,
            text[..last.span.start].lines().count() + 1
        );
    }

    #[test]
    fn a_duplicate_is_found_within_and_across_the_halves_of_a_large_file() {
        let n = 2 * PARALLEL_AT;
        let extra =
            "resource \"terraform_data\" \"r3\" {\n}\n\nresource \"terraform_data\" \"r3\" {\n}\n";
        let text = big(n, extra);
        let errs = load(&text).expect_err("duplicates are errors");
        let dups: Vec<_> = errs
            .0
            .iter()
            .filter(|d| d.summary == "Duplicate resource \"terraform_data\" configuration")
            .collect();
        assert_eq!(dups.len(), 2, "{errs:?}");
        let lines = text.lines().count();
        let mut at: Vec<usize> = dups
            .iter()
            .map(|d| d.range.as_ref().unwrap().line)
            .collect();
        at.sort();
        assert_eq!(at, vec![lines - 4, lines - 1]);
    }
}
