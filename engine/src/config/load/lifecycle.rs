//! `lifecycle` blocks of resources (`create_before_destroy`, `prevent_destroy`,
//! `ignore_changes`, `replace_triggered_by`, `precondition`, `postcondition`), the condition
//! blocks that outputs take too, and `check` blocks (`assert` conditions and scoped data
//! sources).

use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Structure};
use hcl_edit::Span;

use super::super::{Check, Condition, IgnoreChanges, Lifecycle, ModuleConfig};
use super::Loader;
use crate::source::SourceFile;

impl Loader {
    /// `check "NAME" { data "T" "N" { ... } assert { condition, error_message } }`.
    pub(super) fn check_block(
        &mut self,
        m: &mut ModuleConfig,
        file: &Arc<SourceFile>,
        b: Block,
        name: String,
    ) {
        let range = super::block_header_range(file, &b, self.off);
        let mut asserts = Vec::new();
        for s in b.body.into_iter() {
            match s {
                Structure::Block(ib) if ib.ident.value().as_str() == "assert" => {
                    if let Some(c) = self.condition(file, &ib) {
                        asserts.push(c);
                    }
                }
                Structure::Block(ib) if ib.ident.value().as_str() == "data" => {
                    let labels = super::label_strings(&ib);
                    if labels.len() == 2 {
                        m.check_scoped
                            .insert((labels[0].clone(), labels[1].clone()));
                        // A scoped data source: read like any other (it is in the module's
                        // namespace, so its name may not repeat another data source's).
                        self.resource(m, file, ib, terrane_core::Mode::Data, labels);
                    } else {
                        self.err(file, ib.ident.span(), "Wrong number of block labels", "A data block takes 2 labels: its type and its name.".into());
                    }
                }
                Structure::Block(ib) => self.err(
                    file,
                    ib.ident.span(),
                    "Unsupported block type",
                    format!("Blocks of type {:?} are not expected in a check block: it holds assert blocks and data sources.", ib.ident.value().as_str()),
                ),
                Structure::Attribute(a) => self.err(
                    file,
                    a.key.span(),
                    "Unsupported argument",
                    format!("An argument named {:?} is not expected in a check block.", a.key.value().as_str()),
                ),
            }
        }
        if asserts.is_empty() {
            self.diags.push(
                terrane_core::Diagnostic::error(
                    "Missing assert block",
                    format!(
                        "The check block {name:?} has no assert block: it would check nothing."
                    ),
                )
                .with_range(Some(range)),
            );
            return;
        }
        if m.checks.contains_key(&name) {
            self.diags.push(
                terrane_core::Diagnostic::error(
                    "Duplicate check block",
                    format!("A check block named {name:?} was already declared."),
                )
                .with_range(Some(range)),
            );
            return;
        }
        m.checks.insert(
            name.clone(),
            Check {
                name,
                asserts,
                range,
            },
        );
    }

    /// A `precondition`/`postcondition` block: both arguments are required, nothing else.
    pub(super) fn condition(&mut self, file: &Arc<SourceFile>, b: &Block) -> Option<Condition> {
        let kind = b.ident.value().as_str().to_string();
        let mut cond = None;
        let mut msg = None;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.value().as_str() {
                    "condition" => cond = Some(self.expr(file, a)),
                    "error_message" => msg = Some(self.expr(file, a)),
                    other => self.err(
                        file,
                        a.key.span(),
                        "Unsupported argument",
                        format!("An argument named {other:?} is not expected in a {kind} block."),
                    ),
                },
                Structure::Block(ib) => self.err(
                    file,
                    ib.ident.span(),
                    "Unsupported block type",
                    format!("A {kind} block holds only condition and error_message."),
                ),
            }
        }
        match (cond, msg) {
            (Some(condition), Some(error_message)) => Some(Condition {
                condition,
                error_message,
            }),
            (c, _) => {
                let missing = if c.is_none() {
                    "condition"
                } else {
                    "error_message"
                };
                self.err(
                    file,
                    b.ident.span(),
                    "Missing required argument",
                    format!("The argument {missing:?} is required in a {kind} block."),
                );
                None
            }
        }
    }

    pub(super) fn lifecycle(&mut self, file: &Arc<SourceFile>, b: &Block) -> Lifecycle {
        let mut l = Lifecycle::default();
        for s in b.body.iter() {
            let a = match s {
                Structure::Attribute(a) => a,
                Structure::Block(cb) => {
                    match cb.ident.value().as_str() {
                        "precondition" => {
                            if let Some(c) = self.condition(file, cb) {
                                l.preconditions.push(c);
                            }
                        }
                        "postcondition" => {
                            if let Some(c) = self.condition(file, cb) {
                                l.postconditions.push(c);
                            }
                        }
                        other => self.err(
                            file,
                            cb.ident.span(),
                            "Unsupported block type",
                            format!(
                                "Blocks of type {other:?} are not expected in a lifecycle block."
                            ),
                        ),
                    }
                    continue;
                }
            };
            match a.key.value().as_str() {
                "create_before_destroy" => l.create_before_destroy = self.static_bool(file, a),
                "prevent_destroy" => l.prevent_destroy = self.static_bool(file, a),
                "ignore_changes" => {
                    l.ignore_changes = match &a.value {
                        Expression::Variable(v) if v.value().as_str() == "all" => {
                            IgnoreChanges::All
                        }
                        Expression::Array(arr) => {
                            let mut names = Vec::new();
                            for e in arr.iter() {
                                match crate::refs::traversal_names(e)
                                    .and_then(|n| n.into_iter().next())
                                {
                                    Some(n) => names.push(n),
                                    None => {
                                        if let Expression::String(s) = e {
                                            names.push(s.value().clone());
                                        } else {
                                            self.err(
                                                file,
                                                e.span(),
                                                "Invalid ignore_changes",
                                                "Expected attribute names.".into(),
                                            );
                                        }
                                    }
                                }
                            }
                            IgnoreChanges::Attrs(names)
                        }
                        _ => {
                            self.err(
                                file,
                                a.value.span(),
                                "Invalid ignore_changes",
                                "Expected a list of attribute names or `all`.".into(),
                            );
                            IgnoreChanges::None
                        }
                    }
                }
                "replace_triggered_by" => l.replace_triggered_by = self.depends_on(file, a),
                other => self.err(
                    file,
                    a.key.span(),
                    "Unsupported argument",
                    format!("An argument named {other:?} is not expected in a lifecycle block."),
                ),
            }
        }
        l
    }
}
