//! `lifecycle` blocks of resources (`create_before_destroy`, `prevent_destroy`,
//! `ignore_changes`, `replace_triggered_by`, `precondition`, `postcondition`) and the condition
//! blocks that outputs take too.

use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Structure};
use hcl_edit::Span;

use super::super::{Condition, IgnoreChanges, Lifecycle};
use super::Loader;
use crate::source::SourceFile;

impl Loader {
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
