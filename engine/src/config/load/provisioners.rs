//! `provisioner "local-exec"` blocks inside resources, as in Terraform: `command`,
//! `interpreter`, `environment`, `working_dir`, `quiet`, `when = destroy`,
//! `on_failure = continue | fail`. The arguments are evaluated when the provisioner runs (they
//! may read `self`); here the block's shape and its keywords are checked.

use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Structure};
use hcl_edit::Span;

use super::super::{OnFailure, Provisioner, When};
use super::{block_header_range, Loader};
use crate::refs::{traversal_names, RefCollector, RefTarget};
use crate::source::SourceFile;

/// The arguments of `local-exec` besides `when` and `on_failure`.
pub const LOCAL_EXEC_ARGS: &[&str] = &[
    "command",
    "interpreter",
    "environment",
    "working_dir",
    "quiet",
];

impl Loader {
    /// One `provisioner` block; `index` is its position among the resource's provisioners.
    pub(super) fn provisioner(
        &mut self,
        file: &Arc<SourceFile>,
        b: &Block,
        index: usize,
    ) -> Option<Provisioner> {
        let range = block_header_range(file, b, self.off);
        let kind = b
            .labels
            .first()
            .map(|l| l.as_str().to_string())
            .unwrap_or_default();
        if kind != "local-exec" {
            let what = if kind.is_empty() {
                "A provisioner block needs a type label: provisioner \"local-exec\" { ... }."
                    .to_string()
            } else {
                format!("Terrane runs \"local-exec\" provisioners only; \"{kind}\" (which needs a connection to the machine) is not supported. Run the step from a local-exec command, or from the machine's own startup (user_data).")
            };
            self.err(file, b.ident.span(), "Unsupported provisioner", what);
            return None;
        }
        let mut p = Provisioner {
            index,
            when: When::Create,
            on_failure: OnFailure::Fail,
            range,
        };
        let mut has_command = false;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.value().as_str() {
                    "when" => match keyword(&a.value).as_deref() {
                        Some("destroy") => p.when = When::Destroy,
                        Some("create") => p.when = When::Create,
                        _ => self.err(
                            file,
                            a.value.span(),
                            "Invalid \"when\" keyword",
                            "The \"when\" argument takes create or destroy (a keyword, not a string).".into(),
                        ),
                    },
                    "on_failure" => match keyword(&a.value).as_deref() {
                        Some("continue") => p.on_failure = OnFailure::Continue,
                        Some("fail") => p.on_failure = OnFailure::Fail,
                        _ => self.err(
                            file,
                            a.value.span(),
                            "Invalid \"on_failure\" keyword",
                            "The \"on_failure\" argument takes continue or fail (a keyword, not a string).".into(),
                        ),
                    },
                    "command" => has_command = true,
                    k if LOCAL_EXEC_ARGS.contains(&k) => {}
                    k => self.err(
                        file,
                        a.key.span(),
                        "Unsupported argument",
                        format!("An argument named {k:?} is not expected in a local-exec provisioner; it takes {}, when and on_failure.", LOCAL_EXEC_ARGS.join(", ")),
                    ),
                },
                Structure::Block(inner) => self.err(
                    file,
                    inner.ident.span(),
                    "Unsupported block type",
                    format!(
                        "Blocks of type {:?} are not expected in a local-exec provisioner.",
                        inner.ident.value().as_str()
                    ),
                ),
            }
        }
        if !has_command {
            self.err(
                file,
                b.ident.span(),
                "Missing required argument",
                "The argument \"command\" is required in a local-exec provisioner.".into(),
            );
            return None;
        }
        if p.when == When::Destroy {
            // As in Terraform: at destroy time only the object itself is known.
            let mut c = RefCollector::new();
            c.body(&b.body, &[]);
            for r in c.refs {
                if !matches!(
                    r.target,
                    RefTarget::SelfRef | RefTarget::Count | RefTarget::Each | RefTarget::Path
                ) {
                    self.err(
                        file,
                        r.span.clone(),
                        "Invalid reference from destroy provisioner",
                        format!("Destroy-time provisioners can refer only to self, count.index, each.key and path: {} may be gone (or changed) when the resource is destroyed. Keep what the command needs in the resource (for example in triggers) and read it through self.", crate::eval::describe_target(&r.target)),
                    );
                }
            }
        }
        Some(p)
    }
}

/// A bare keyword (`destroy`, `continue`), or the same written as a string.
fn keyword(e: &Expression) -> Option<String> {
    if let Expression::String(s) = e {
        return Some(s.value().clone());
    }
    traversal_names(e).and_then(|n| (n.len() == 1).then(|| n[0].clone()))
}
