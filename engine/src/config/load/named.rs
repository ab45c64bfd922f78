//! The named declarations of a module: `variable` blocks (types, defaults, validations),
//! `locals`, `output` blocks and `module` calls (their arguments, `count`/`for_each`,
//! `providers`, and the child module loaded from `source`).

use std::collections::BTreeMap;
use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Structure};
use hcl_edit::Span;
use terrane_core::Diagnostic;

use super::*;
use crate::eval::eval_static_at;
use crate::source::SourceFile;

impl Loader {
    pub(super) fn variable(
        &mut self,
        m: &mut ModuleConfig,
        file: &Arc<SourceFile>,
        b: Block,
        labels: Vec<String>,
    ) {
        let range = block_header_range(file, &b, self.off);
        let mut v = Variable {
            name: labels[0].clone(),
            ty: None,
            defaults: TypeDefaults::None,
            default: None,
            description: None,
            sensitive: false,
            nullable: true,
            validations: Vec::new(),
            range,
        };
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.value().as_str() {
                    "type" => {
                        let off = self.off;
                        let mut default = |e: &Expression| {
                            eval_static_at(e, file, off).map_err(|d| {
                                d.0.first().map(|d| d.detail.clone()).unwrap_or_default()
                            })
                        };
                        match parse_type_constraint(&a.value, &mut default) {
                            Ok((t, d)) => {
                                v.ty = Some(t);
                                v.defaults = d;
                            }
                            Err(e) => {
                                self.err(file, a.value.span(), "Invalid type specification", e)
                            }
                        }
                    }
                    "default" => v.default = self.static_value(file, a),
                    "description" => {
                        v.description = self
                            .static_value(file, a)
                            .and_then(|x| x.as_str().map(String::from))
                    }
                    "sensitive" => v.sensitive = self.static_bool(file, a),
                    "nullable" => v.nullable = self.static_bool(file, a),
                    "ephemeral" => {}
                    other => self.err(
                        file,
                        a.key.span(),
                        "Unsupported argument",
                        format!("An argument named {other:?} is not expected in a variable block."),
                    ),
                },
                Structure::Block(vb) if vb.ident.value().as_str() == "validation" => {
                    let cond = vb.body.get_attribute("condition");
                    let msg = vb.body.get_attribute("error_message");
                    match (cond, msg) {
                        (Some(c), Some(msg)) => v.validations.push(Validation {
                            condition: self.expr(file, c),
                            error_message: self.expr(file, msg),
                        }),
                        _ => self.err(
                            file,
                            vb.ident.span(),
                            "Invalid validation block",
                            "A validation block needs condition and error_message.".into(),
                        ),
                    }
                }
                Structure::Block(ob) => self.err(
                    file,
                    ob.ident.span(),
                    "Unsupported block type",
                    format!(
                        "Blocks of type {:?} are not expected in a variable block.",
                        ob.ident.value().as_str()
                    ),
                ),
            }
        }
        if let (Some(_), Some(d)) = (&v.ty, &v.default) {
            match v.convert(d) {
                Ok(c) => v.default = Some(c),
                Err(e) => self.diags.push(
                    Diagnostic::error("Invalid default value for variable", format!("This default value is not compatible with the variable's type constraint: {e}."))
                        .with_range(Some(v.range.clone())),
                ),
            }
        }
        if m.variables.contains_key(&v.name) {
            self.diags.push(
                Diagnostic::error(
                    "Duplicate variable declaration",
                    format!("A variable named {:?} was already declared.", v.name),
                )
                .with_range(Some(v.range)),
            );
            return;
        }
        m.variables.insert(v.name.clone(), v);
    }

    pub(super) fn locals(&mut self, m: &mut ModuleConfig, file: &Arc<SourceFile>, b: Block) {
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let name = a.key.value().as_str().to_string();
                    let range = self
                        .sr(file, a.key.span())
                        .expect("parsed attributes have spans");
                    if m.locals.contains_key(&name) {
                        self.diags.push(
                            Diagnostic::error(
                                "Duplicate local value definition",
                                format!("A local value named {name:?} was already defined."),
                            )
                            .with_range(Some(range)),
                        );
                        continue;
                    }
                    m.locals.insert(
                        name.clone(),
                        Local {
                            name,
                            expr: self.expr(file, a),
                            range,
                        },
                    );
                }
                Structure::Block(ib) => self.err(
                    file,
                    ib.ident.span(),
                    "Unsupported block type",
                    "A locals block holds only assignments.".into(),
                ),
            }
        }
    }

    pub(super) fn output(
        &mut self,
        m: &mut ModuleConfig,
        file: &Arc<SourceFile>,
        b: Block,
        labels: Vec<String>,
    ) {
        let range = block_header_range(file, &b, self.off);
        let name = labels[0].clone();
        let mut value = None;
        let mut sensitive = false;
        let mut description = None;
        let mut depends_on = Vec::new();
        let mut preconditions = Vec::new();
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.value().as_str() {
                    "value" => value = Some(self.expr(file, a)),
                    "sensitive" => sensitive = self.static_bool(file, a),
                    "description" => {
                        description = self
                            .static_value(file, a)
                            .and_then(|x| x.as_str().map(String::from))
                    }
                    "depends_on" => depends_on = self.depends_on(file, a),
                    "ephemeral" => {}
                    other => self.err(
                        file,
                        a.key.span(),
                        "Unsupported argument",
                        format!("An argument named {other:?} is not expected in an output block."),
                    ),
                },
                Structure::Block(ob) if ob.ident.value().as_str() == "precondition" => {
                    if let Some(c) = self.condition(file, ob) {
                        preconditions.push(c);
                    }
                }
                Structure::Block(ob) => self.err(
                    file,
                    ob.ident.span(),
                    "Unsupported block type",
                    format!(
                        "Blocks of type {:?} are not expected in an output block.",
                        ob.ident.value().as_str()
                    ),
                ),
            }
        }
        let Some(expr) = value else {
            self.diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    "The argument \"value\" is required in an output block.",
                )
                .with_range(Some(range)),
            );
            return;
        };
        if m.outputs.contains_key(&name) {
            self.diags.push(
                Diagnostic::error(
                    "Duplicate output definition",
                    format!("An output named {name:?} was already defined."),
                )
                .with_range(Some(range)),
            );
            return;
        }
        m.outputs.insert(
            name.clone(),
            Output {
                name,
                expr,
                sensitive,
                description,
                depends_on,
                preconditions,
                range,
            },
        );
    }

    pub(super) fn module_call(
        &mut self,
        m: &mut ModuleConfig,
        file: &Arc<SourceFile>,
        b: Block,
        labels: Vec<String>,
        depth: usize,
    ) {
        let range = block_header_range(file, &b, self.off);
        let name = labels[0].clone();
        let mut source = None;
        let mut inputs = BTreeMap::new();
        let mut depends_on = Vec::new();
        let (mut count, mut for_each) = (None, None);
        let mut providers = Vec::new();
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.value().as_str() {
                    "source" => source = self.static_value(file, a).and_then(|v| v.as_str().map(String::from)),
                    "version" => self.err(file, a.key.span(), "Argument not supported yet", "version on a module call is not supported yet: only local module sources are, and they have no versions. Remove it; Terrane would otherwise ignore it.".into()),
                    "providers" => providers = self.module_providers(file, a),
                    "depends_on" => depends_on = self.depends_on(file, a),
                    "count" => count = Some((self.expr(file, a), a.key.span())),
                    "for_each" => for_each = Some(self.expr(file, a)),
                    k => {
                        inputs.insert(k.to_string(), self.expr(file, a));
                    }
                },
                Structure::Block(ob) => self.err(file, ob.ident.span(), "Unsupported block type", format!("Blocks of type {:?} are not expected in a module block.", ob.ident.value().as_str())),
            }
        }
        if let (Some((_, span)), Some(_)) = (&count, &for_each) {
            self.err(file, span.clone(), "Invalid combination of \"count\" and \"for_each\"", "The \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used.".into());
        }
        let count = count.map(|(e, _)| e);
        let Some(source) = source else {
            self.diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    "The argument \"source\" is required in a module block.",
                )
                .with_range(Some(range)),
            );
            return;
        };
        if !(source.starts_with("./") || source.starts_with("../")) {
            self.diags.push(
                Diagnostic::error("Unsupported module source", format!("Module source {source:?} is not a local path. Only local modules (\"./...\" or \"../...\") are supported."))
                    .with_range(Some(range)),
            );
            return;
        }
        if depth >= MAX_MODULE_DEPTH {
            self.diags.push(Diagnostic::error("Module nesting too deep", format!("Modules nest more than {MAX_MODULE_DEPTH} levels; is a module calling itself?")).with_range(Some(range)));
            return;
        }
        let child_dir = normalize_path(&m.dir.join(&source));
        if !child_dir.is_dir() {
            self.diags.push(
                Diagnostic::error(
                    "Module not found",
                    format!(
                        "The module directory {} does not exist.",
                        display_path(&child_dir)
                    ),
                )
                .with_range(Some(range)),
            );
            return;
        }
        let child = self.load_module(&child_dir, depth + 1);
        for (k, e) in &inputs {
            if !child.variables.contains_key(k) {
                self.diags.push(
                    Diagnostic::error("Unsupported argument", format!("An argument named {k:?} is not expected here: module {name:?} declares no such variable."))
                        .with_range(e.range()),
                );
            }
        }
        for (vn, v) in &child.variables {
            if v.default.is_none() && !inputs.contains_key(vn) {
                self.diags.push(
                    Diagnostic::error("Missing required argument", format!("The argument {vn:?} is required by module {name:?}, but no definition was found."))
                        .with_range(Some(range.clone())),
                );
            }
        }
        m.module_calls.insert(
            name.clone(),
            ModuleCall {
                name,
                source,
                inputs,
                depends_on,
                providers,
                count,
                for_each,
                child: Arc::new(child),
                range,
            },
        );
    }
}
