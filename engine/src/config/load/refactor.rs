//! `moved` blocks (where objects were before a refactoring: a resource renamed, moved into a
//! module, given `count` or `for_each`, a module call renamed or repeated), `removed`
//! blocks (objects that leave the configuration, destroyed or only forgotten) and `import`
//! blocks (existing objects that enter it).

use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Structure};
use hcl_edit::Span;
use terrane_core::{Diagnostic, InstanceAddr, InstanceKey, Mode, ModulePath, Value};

use super::super::{Expr, ImportBlock, ImportExpr, ModuleConfig, MoveAddr, Moved, Removed};
use super::{block_header_range, Loader};
use crate::eval::eval_static_at;
use crate::source::SourceFile;

/// Whether an address's index is an expression rather than a literal key.
fn index_refers(e: &Expression) -> bool {
    indexed_resource(e)
        .is_some_and(|(_, k)| !matches!(k, Expression::String(_) | Expression::Number(_)))
}

/// `TYPE.NAME[EXPR]` as its resource (in the root module) and the index expression.
fn indexed_resource(e: &Expression) -> Option<(terrane_core::ResourceAddr, &Expression)> {
    use hcl_edit::expr::TraversalOperator as Op;
    let Expression::Traversal(t) = e else {
        return None;
    };
    let Expression::Variable(ty) = &t.expr else {
        return None;
    };
    let ops: Vec<&Op> = t.operators.iter().map(|o| o.value()).collect();
    match ops.as_slice() {
        [Op::GetAttr(name), Op::Index(k)]
            if ty.value().as_str() != "module" && ty.value().as_str() != "data" =>
        {
            Some((
                terrane_core::ResourceAddr::new(
                    ModulePath::root(),
                    Mode::Managed,
                    ty.value().as_str(),
                    name.value().as_str(),
                ),
                k,
            ))
        }
        _ => None,
    }
}

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

    /// `import { to = ADDRESS  id = "..." }` (in the root module: `depth` 0), with
    /// `for_each` and an `id` computed from variables and locals too (then kept as
    /// expressions for the session to evaluate).
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
        let (mut to, mut id, mut for_each, mut provider) = (None, None, None, None);
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.value().as_str() {
                    "to" => to = Some(a.clone()),
                    "id" => id = Some(a.clone()),
                    "for_each" => for_each = Some(Expr::at(file, &a.value, self.off)),
                    "provider" => provider = self.provider_config_key(file, a.value.span()),
                    other => self.err(
                        file,
                        a.key.span(),
                        "Unsupported argument",
                        format!("An argument named {other:?} is not expected in an import block: it takes to, id, for_each and provider."),
                    ),
                },
                Structure::Block(ib) => self.err(
                    file,
                    ib.ident.span(),
                    "Unsupported block type",
                    "An import block takes only the arguments to, id, for_each and provider.".into(),
                ),
            }
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
        // A literal address and id: resolved now.
        let literal_id = eval_static_at(&id.value, file, self.off).ok();
        if for_each.is_none() && !index_refers(&to.value) {
            let to = match self.move_addr(file, &to) {
                Some(MoveAddr::Resource(r)) => r.instance(InstanceKey::None),
                Some(MoveAddr::Instance(i)) => i,
                Some(MoveAddr::Module(p)) => {
                    self.err(
                        file,
                        to.value.span(),
                        "Invalid import address",
                        format!("{p} is a module: an import block imports one resource instance."),
                    );
                    return;
                }
                None => return,
            };
            match literal_id {
                Some(Value::String(s)) if !s.is_empty() => {
                    m.imports.push(ImportBlock {
                        to,
                        id: s,
                        provider,
                        range,
                    });
                    return;
                }
                Some(_) => {
                    self.err(
                        file,
                        id.value.span(),
                        "Invalid import id",
                        "The id of an import block is the object's ID as a non-empty string."
                            .into(),
                    );
                    return;
                }
                None => {
                    // Computed from variables or locals: evaluated with them.
                    m.import_exprs.push(ImportExpr {
                        for_each: None,
                        resource: to.resource.clone(),
                        key: None,
                        id: Expr::at(file, &id.value, self.off),
                        provider: provider.map(|p| p.to_string()),
                        range,
                    });
                    return;
                }
            }
        }
        // `to` with an index computed from `each` (or variables): `TYPE.NAME[EXPR]`.
        let Some((resource, key)) = indexed_resource(&to.value) else {
            self.err(file, to.value.span(), "Invalid import address", "With for_each, `to` is a resource instance whose key comes from each: TYPE.NAME[each.key].".into());
            return;
        };
        m.import_exprs.push(ImportExpr {
            for_each,
            resource,
            key: Some(Expr::at(file, key, self.off)),
            id: Expr::at(file, &id.value, self.off),
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
