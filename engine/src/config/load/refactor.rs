//! `moved` blocks (where objects were before a refactoring: a resource renamed, moved into a
//! module, given `count` or `for_each`, a module call renamed or repeated) and `removed`
//! blocks (objects that leave the configuration, destroyed or only forgotten).

use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Structure};
use hcl_edit::Span;
use terrane_core::{Diagnostic, InstanceAddr, InstanceKey, Mode, ModulePath};

use super::super::{ModuleConfig, MoveAddr, Moved, Removed};
use super::{block_header_range, Loader};
use crate::source::SourceFile;

impl Loader {
    pub(super) fn moved(&mut self, m: &mut ModuleConfig, file: &Arc<SourceFile>, b: Block) {
        let range = block_header_range(file, &b, self.off);
        let (mut from, mut to) = (None, None);
        let mut bad = false;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.value().as_str() {
                    "from" => {
                        from = self.move_addr(file, a);
                        bad |= from.is_none();
                    }
                    "to" => {
                        to = self.move_addr(file, a);
                        bad |= to.is_none();
                    }
                    other => self.err(
                        file,
                        a.key.span(),
                        "Unsupported argument",
                        format!("An argument named {other:?} is not expected in a moved block: it takes from and to."),
                    ),
                },
                Structure::Block(ib) => self.err(
                    file,
                    ib.ident.span(),
                    "Unsupported block type",
                    "A moved block takes only the arguments from and to.".into(),
                ),
            }
        }
        if bad {
            return;
        }
        let (Some(from), Some(to)) = (from, to) else {
            self.diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    "A moved block needs both from and to.",
                )
                .with_range(Some(range)),
            );
            return;
        };
        let problem = match (&from, &to) {
            (MoveAddr::Module(_), MoveAddr::Module(_)) => None,
            (MoveAddr::Module(_), _) | (_, MoveAddr::Module(_)) => Some(
                "A moved block moves a module to a module, or a resource to a resource: not one to the other.".to_string(),
            ),
            (a, b) => {
                let (ta, tb) = (resource_type(a), resource_type(b));
                (ta != tb).then(|| {
                    format!("Objects of type {ta:?} cannot move to a resource of type {tb:?}.")
                })
            }
        };
        if from == to {
            self.diags.push(
                Diagnostic::error(
                    "Redundant moved block",
                    format!("This moved block moves {from} to itself."),
                )
                .with_range(Some(range)),
            );
            return;
        }
        if let Some(p) = problem {
            self.diags
                .push(Diagnostic::error("Invalid moved block", p).with_range(Some(range)));
            return;
        }
        m.moved.push(Moved { from, to, range });
    }

    pub(super) fn removed(&mut self, m: &mut ModuleConfig, file: &Arc<SourceFile>, b: Block) {
        let range = block_header_range(file, &b, self.off);
        let mut from = None;
        let mut destroy = true;
        let mut bad = false;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) if a.key.value().as_str() == "from" => {
                    from = self.move_addr(file, a);
                    if let Some(MoveAddr::Instance(i)) = &from {
                        self.err(file, a.value.span(), "Invalid address in removed block", format!("{i} is one instance: a removed block takes a whole resource or module call (the instances' keys are gone with it)."));
                        from = None;
                    }
                    bad |= from.is_none();
                }
                Structure::Attribute(a) => self.err(
                    file,
                    a.key.span(),
                    "Unsupported argument",
                    format!("An argument named {:?} is not expected in a removed block: it takes from and a lifecycle block.", a.key.value().as_str()),
                ),
                Structure::Block(lb) if lb.ident.value().as_str() == "lifecycle" => {
                    for ls in lb.body.iter() {
                        match ls {
                            Structure::Attribute(a) if a.key.value().as_str() == "destroy" => {
                                destroy = self.static_bool(file, a)
                            }
                            other => {
                                let span = match other {
                                    Structure::Attribute(a) => a.key.span(),
                                    Structure::Block(b) => b.ident.span(),
                                };
                                self.err(file, span, "Unsupported argument", "The lifecycle block of a removed block takes only destroy (true or false).".into())
                            }
                        }
                    }
                }
                Structure::Block(ib) => self.err(
                    file,
                    ib.ident.span(),
                    "Unsupported block type",
                    "A removed block takes from and a lifecycle block.".into(),
                ),
            }
        }
        if bad {
            return;
        }
        let Some(from) = from else {
            self.diags.push(
                Diagnostic::error("Missing required argument", "A removed block needs from.")
                    .with_range(Some(range)),
            );
            return;
        };
        m.removed.push(Removed {
            from,
            destroy,
            range,
        });
    }

    /// `from` or `to`: a module, a resource or a resource instance, written as a reference.
    fn move_addr(&mut self, file: &Arc<SourceFile>, a: &Attribute) -> Option<MoveAddr> {
        let span = a.value.span();
        let text = span
            .clone()
            .and_then(|s| file.text.get(s.start + self.off..s.end + self.off))
            .unwrap_or_default()
            .trim()
            .to_string();
        let parsed = if !matches!(a.value, Expression::Traversal(_) | Expression::Variable(_)) {
            Err("An address is written as a reference, without quotes: terraform_data.a, module.a[\"k\"].")
        } else if let Ok(i) = InstanceAddr::parse(&text) {
            if i.resource.mode == Mode::Data {
                Err("Data resources are read again on every plan: they are never moved.")
            } else if i.key == InstanceKey::None && !text.ends_with(']') {
                Ok(MoveAddr::Resource(i.resource))
            } else {
                Ok(MoveAddr::Instance(i))
            }
        } else {
            match ModulePath::parse(&text) {
                Ok(p) if !p.is_root() => Ok(MoveAddr::Module(p)),
                _ => Err("Expected a resource (aws_x.name, aws_x.name[KEY]) or a module (module.name, module.name[KEY]) address."),
            }
        };
        match parsed {
            Ok(m) => Some(m),
            Err(why) => {
                self.err(
                    file,
                    span,
                    "Invalid address in moved block",
                    format!("{text} is not an address a moved block takes. {why}"),
                );
                None
            }
        }
    }
}

fn resource_type(a: &MoveAddr) -> &str {
    match a {
        MoveAddr::Resource(r) => &r.ty,
        MoveAddr::Instance(i) => &i.resource.ty,
        MoveAddr::Module(_) => "",
    }
}
