//! `moved` blocks (where objects were before a refactoring: a resource renamed, moved into a
//! module, given `count` or `for_each`, a module call renamed or repeated), `removed`
//! blocks (objects that leave the configuration, destroyed or only forgotten) and `import`
//! blocks (existing objects that enter it).

use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Structure};
use hcl_edit::Span;
use terrane_core::{Diagnostic, InstanceAddr, InstanceKey, Mode, ModulePath, Value};

use super::super::{ImportBlock, ModuleConfig, MoveAddr, Moved, Removed};
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

    /// `import { to = ADDRESS  id = "..." }` (in the root module: `depth` 0).
    pub(super) fn import_block(
        &mut self,
        m: &mut ModuleConfig,
        file: &Arc<SourceFile>,
        b: Block,
        depth: usize,
    ) {
        let range = block_header_range(file, &b, self.off);
        if depth > 0 {
            self.diags.push(
                Diagnostic::error("Invalid import block", "Import blocks are only allowed in the root module: a module cannot know which objects its callers mean.")
                    .with_range(Some(range)),
            );
            return;
        }
        let (mut to, mut id, mut provider) = (None, None, None);
        let mut bad = false;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.value().as_str() {
                    "to" => {
                        to = match self.move_addr(file, a) {
                            Some(MoveAddr::Resource(r)) => Some(r.instance(InstanceKey::None)),
                            Some(MoveAddr::Instance(i)) => Some(i),
                            Some(MoveAddr::Module(p)) => {
                                self.err(file, a.value.span(), "Invalid import address", format!("{p} is a module: an import block imports one resource instance."));
                                None
                            }
                            None => None,
                        };
                        bad |= to.is_none();
                    }
                    "id" => match self.static_value(file, a) {
                        Some(Value::String(s)) if !s.is_empty() => id = Some(s),
                        Some(_) => {
                            self.err(file, a.value.span(), "Invalid import id", "The id of an import block is the object's ID as a non-empty string.".into());
                            bad = true;
                        }
                        None => bad = true,
                    },
                    "provider" => provider = self.provider_config_key(file, a.value.span()),
                    "for_each" => {
                        self.err(file, a.key.span(), "Argument not supported yet", "for_each in an import block is not supported yet: write one import block per object.".into());
                        bad = true;
                    }
                    other => self.err(
                        file,
                        a.key.span(),
                        "Unsupported argument",
                        format!("An argument named {other:?} is not expected in an import block: it takes to and id."),
                    ),
                },
                Structure::Block(ib) => self.err(
                    file,
                    ib.ident.span(),
                    "Unsupported block type",
                    "An import block takes only the arguments to and id.".into(),
                ),
            }
        }
        if bad {
            return;
        }
        let (Some(to), Some(id)) = (to, id) else {
            self.diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    "An import block needs both to and id.",
                )
                .with_range(Some(range)),
            );
            return;
        };
        m.imports.push(ImportBlock {
            to,
            id,
            provider,
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
