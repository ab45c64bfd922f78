//! `moved` and `removed` blocks, applied to the state a plan starts from. `moved`: the objects they name are renamed
//! before anything is refreshed or compared, so a refactoring (a resource renamed, moved into
//! a module, given `for_each`; a module call renamed or repeated) plans no change. Applying
//! the plan records the renames first (`Session::replay_moves`, then the store's
//! `move_resource`, one instance at a time: a run killed half way leaves the rest for the
//! next plan to find). `removed` with `destroy = false`: the objects leave the state without
//! being destroyed (`Plan::forgets`); with `destroy = true` they are orphans, destroyed as if
//! the block were simply gone.

use std::sync::Arc;

use terrane_core::{Diagnostic, Diagnostics, InstanceAddr, ModulePath, ResourceAddr};

use crate::config::{ModuleConfig, MoveAddr, Moved, Removed};
use crate::graph::NodeKey;
use crate::plan::Move;
use crate::session::Session;

impl Session {
    /// Renames the state instances that `moved` blocks name, in every instance of the module
    /// that declares them, block by block in the order written (a chain a -> b, b -> c ends
    /// at c). An object already at a destination stays where it is, and that move is skipped
    /// with a warning.
    pub(crate) fn apply_moved_blocks(
        &mut self,
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<Vec<Move>, Diagnostics> {
        let mut modules: Vec<(&ModulePath, &Arc<ModuleConfig>)> = self
            .graph
            .modules
            .iter()
            .filter(|(_, m)| !m.moved.is_empty())
            .collect();
        modules.sort_by(|a, b| a.0.cmp(b.0));
        let blocks: Vec<(ModulePath, Moved)> = modules
            .into_iter()
            .flat_map(|(p, m)| m.moved.iter().map(|mv| (p.clone(), mv.clone())))
            .collect();
        // As Terraform: a block whose `from` is still declared is a mistake (which one is
        // meant?), not a move.
        let mut diags = Diagnostics::new();
        for (path, mv) in &blocks {
            if let Some(what) = self.still_declared(path, &mv.from) {
                diags.push(
                    Diagnostic::error(
                        "Moved object still exists",
                        format!("This statement declares a move from {what}, but it is still declared in the configuration. Change your configuration so that {what} is not declared any more, or remove this moved block."),
                    )
                    .with_range(Some(mv.range.clone())),
                );
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        let mut moves = Vec::new();
        for (path, mv) in blocks {
            let pairs: Vec<(InstanceAddr, InstanceAddr)> = self
                .state
                .keys()
                .filter_map(|a| moved_to(&path, &mv, a).map(|to| (a.clone(), to)))
                .collect();
            for (from, to) in pairs {
                if self.state.contains_key(&to) {
                    warnings.push(
                        Diagnostic::warning(
                            "Object already exists at the moved block's destination",
                            format!("{from} was not moved to {to}: an object is already recorded there. Remove one of them from the state (terrane state rm ADDRESS) and plan again."),
                        )
                        .with_range(Some(mv.range.clone())),
                    );
                    continue;
                }
                self.rename(&from, &to);
                moves.push(Move { from, to });
            }
        }
        Ok(moves)
    }

    /// Takes out of this session's state the objects that `removed` blocks with
    /// `destroy = false` name, and returns their addresses (applying the plan forgets them).
    pub(crate) fn apply_removed_blocks(&mut self) -> Result<Vec<InstanceAddr>, Diagnostics> {
        let mut blocks: Vec<(ModulePath, Removed)> = self
            .graph
            .modules
            .iter()
            .flat_map(|(p, m)| m.removed.iter().map(|r| (p.clone(), r.clone())))
            .collect();
        blocks.sort_by(|a, b| a.0.cmp(&b.0));
        let mut diags = Diagnostics::new();
        for (path, r) in &blocks {
            if let Some(what) = self.still_declared(path, &r.from) {
                diags.push(
                    Diagnostic::error(
                        "Removed object still exists",
                        format!("This statement declares that {what} was removed, but it is still declared in the configuration. Remove its block, or this removed block."),
                    )
                    .with_range(Some(r.range.clone())),
                );
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        let mut forgets = Vec::new();
        for (path, r) in blocks.iter().filter(|(_, r)| !r.destroy) {
            let gone: Vec<InstanceAddr> = self
                .state
                .keys()
                .filter(|a| removes(path, &r.from, a))
                .cloned()
                .collect();
            for a in gone {
                self.state.remove(&a);
                forgets.push(a);
            }
        }
        Ok(forgets)
    }

    /// `from` of a `moved` block in module instance `path`, if the configuration still
    /// declares it (an instance counts when its resource or module call has that key).
    fn still_declared(&self, path: &ModulePath, from: &MoveAddr) -> Option<String> {
        match from {
            MoveAddr::Module(m) => {
                let full = path.join(m);
                self.graph
                    .modules
                    .contains_key(&full)
                    .then(|| full.to_string())
            }
            MoveAddr::Resource(r) => {
                let full = within(path, r);
                self.graph
                    .id(&NodeKey::Resource(full.clone()))
                    .map(|_| full.to_string())
            }
            // An instance's key belongs to count/for_each, known only while planning: a
            // resource block that is still there may simply have other keys now.
            MoveAddr::Instance(_) => None,
        }
    }

    /// Makes a saved plan's renames in this session's state (they are in the store once the
    /// apply has recorded them).
    pub(crate) fn replay_moves(&mut self, moves: &[Move]) {
        for m in moves {
            if !self.state.contains_key(&m.to) {
                self.rename(&m.from, &m.to);
            }
        }
    }

    fn rename(&mut self, from: &InstanceAddr, to: &InstanceAddr) {
        if let Some(mut inst) = self.state.remove(from) {
            inst.addr = to.clone();
            self.state.insert(to.clone(), inst);
        }
    }
}

/// Where the `moved` block `mv` of module instance `path` puts the object at `a`, if it names it.
fn moved_to(path: &ModulePath, mv: &Moved, a: &InstanceAddr) -> Option<InstanceAddr> {
    match (&mv.from, &mv.to) {
        (MoveAddr::Module(f), MoveAddr::Module(t)) => {
            let module = move_module(&path.join(f), &path.join(t), &a.resource.module)?;
            Some(InstanceAddr {
                resource: ResourceAddr {
                    module,
                    ..a.resource.clone()
                },
                key: a.key.clone(),
            })
        }
        (MoveAddr::Resource(f), MoveAddr::Resource(t)) => {
            (a.resource == within(path, f)).then(|| within(path, t).instance(a.key.clone()))
        }
        (f, t) => {
            let f = instance(path, f)?;
            (*a == f).then(|| instance(path, t)).flatten()
        }
    }
}

/// Whether the `removed` block `from` of module instance `path` names the object at `a`.
fn removes(path: &ModulePath, from: &MoveAddr, a: &InstanceAddr) -> bool {
    match from {
        MoveAddr::Resource(r) => a.resource == within(path, r),
        // The call and every instance of it: module.a covers module.a["x"] too.
        MoveAddr::Module(m) => {
            let full = path.join(m);
            move_module(&full, &full, &a.resource.module).is_some()
        }
        MoveAddr::Instance(_) => false,
    }
}

/// `m` with its prefix `from` replaced by `to`. A last step without a key names the whole
/// call: `module.a` to `module.b` moves `module.a["x"]` to `module.b["x"]` too.
fn move_module(from: &ModulePath, to: &ModulePath, m: &ModulePath) -> Option<ModulePath> {
    let n = from.0.len();
    if m.0.len() < n || m.0[..n - 1] != from.0[..n - 1] {
        return None;
    }
    let (step, want) = (&m.0[n - 1], &from.0[n - 1]);
    let mut out = to.clone();
    if step != want {
        // module.a["x"] under a move of the whole call module.a, to a whole call.
        let to_last = to.0.last()?;
        let key = step.strip_prefix(want.as_ref())?;
        if !key.starts_with('[') || want.contains('[') || to_last.contains('[') {
            return None;
        }
        *out.0.last_mut()? = Arc::from(format!("{to_last}{key}"));
    }
    out.0.extend(m.0[n..].iter().cloned());
    Some(out)
}

fn within(path: &ModulePath, r: &ResourceAddr) -> ResourceAddr {
    ResourceAddr {
        module: path.join(&r.module),
        ..r.clone()
    }
}

/// One instance: a resource on one side of an instance move is its instance without a key.
fn instance(path: &ModulePath, a: &MoveAddr) -> Option<InstanceAddr> {
    match a {
        MoveAddr::Instance(i) => Some(within(path, &i.resource).instance(i.key.clone())),
        MoveAddr::Resource(r) => Some(within(path, r).instance(terrane_core::InstanceKey::None)),
        MoveAddr::Module(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp(s: &str) -> ModulePath {
        ModulePath::parse(s).unwrap()
    }

    #[test]
    fn module_moves_rename_the_prefix_and_keep_what_is_below() {
        let m =
            |f: &str, t: &str, a: &str| move_module(&mp(f), &mp(t), &mp(a)).map(|p| p.to_string());
        assert_eq!(
            m("module.api", "module.svc[\"api\"]", "module.api").as_deref(),
            Some("module.svc[\"api\"]")
        );
        assert_eq!(
            m(
                "module.api",
                "module.svc[\"api\"]",
                "module.api.module.logs"
            )
            .as_deref(),
            Some("module.svc[\"api\"].module.logs")
        );
        // The whole call, every instance.
        assert_eq!(
            m("module.a", "module.b", "module.a[\"x\"]").as_deref(),
            Some("module.b[\"x\"]")
        );
        // Not this call, another instance, or a call whose name only starts the same.
        assert_eq!(m("module.a", "module.b", "module.ab"), None);
        assert_eq!(m("module.a[\"x\"]", "module.b", "module.a[\"y\"]"), None);
        assert_eq!(m("module.a", "module.b[\"k\"]", "module.a[\"x\"]"), None);
        assert_eq!(m("module.a.module.c", "module.d", "module.a"), None);
    }
}
