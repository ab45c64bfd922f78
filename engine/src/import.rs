//! `terrane import` and `import` blocks: an existing object enters state at a declared
//! address (the command at once; a block when the plan that reads it is applied).

use terrane_core::{Diagnostic, Diagnostics, InstanceAddr, Mode};
use terrane_state::StateStore;

use crate::graph::{NodeKey, NodeKind};
use crate::plan::Import;
use crate::session::{state_err, Session, StateInstance};

impl Session {
    /// Imports an existing object into state at `addr`, which must be declared in the
    /// configuration and not yet in state.
    pub async fn import(
        &mut self,
        store: &dyn StateStore,
        addr: &InstanceAddr,
        id: &str,
    ) -> Result<StateInstance, Diagnostics> {
        let node = self
            .graph
            .id(&crate::graph::NodeKey::Resource(addr.resource.clone()))
            .filter(|_| addr.resource.mode == Mode::Managed)
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Configuration for import target does not exist",
                    format!("The configuration does not declare a managed resource {}. Add a resource block for it first, then import.", addr.resource),
                ))
            })?;
        if self.state.contains_key(addr) {
            return Err(Diagnostic::error("Resource already managed by Terrane", format!("{addr} is already in state; remove it with `terrane state rm` first to import another object there.")).into());
        }
        self.configure_providers().await?;
        let NodeKind::Resource {
            config,
            addr: raddr,
        } = &self.graph.nodes[node].kind
        else {
            unreachable!("resource node")
        };
        let key = self.graph.provider_key(raddr, config);
        let p = self.provider(&key)?.clone();
        let value = p.import(&addr.resource.ty, id).await.map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                format!("{addr}: import failed"),
                e.message,
            ))
        })?;
        let schema = self.schema_for(&key, Mode::Managed, &addr.resource.ty)?;
        let si = StateInstance {
            addr: addr.clone(),
            provider: key,
            value,
            sensitive: schema.sensitive_attrs().map(String::from).collect(),
            deps: self.dep_addrs(node),
            tainted: false,
        };
        store
            .put_resource(&self.opts.workspace, &si.to_record())
            .map_err(state_err)?;
        self.state.insert(addr.clone(), si.clone());
        Ok(si)
    }

    /// Reads the objects that `import` blocks name and are not in state yet into this
    /// session's state (the plan then compares them with their configuration) and returns
    /// them. One already in state was imported by an earlier apply: the block is done.
    pub(crate) async fn plan_import_blocks(&mut self) -> Result<Vec<Import>, Diagnostics> {
        let mut out = Vec::new();
        let mut diags = Diagnostics::new();
        for b in self.imports.clone() {
            if self.state.contains_key(&b.to) {
                continue;
            }
            let node = self
                .graph
                .id(&NodeKey::Resource(b.to.resource.clone()))
                .filter(|_| b.to.resource.mode == Mode::Managed);
            let Some(node) = node else {
                diags.push(
                    Diagnostic::error(
                        "Configuration for import target does not exist",
                        format!("The configuration does not declare a managed resource {}. Add a resource block for it, then plan again.", b.to.resource),
                    )
                    .with_range(Some(b.range.clone())),
                );
                continue;
            };
            let NodeKind::Resource { config, addr } = &self.graph.nodes[node].kind else {
                unreachable!("resource node")
            };
            let key = self.graph.provider_key(addr, config);
            if let Some(p) = b.provider.as_ref().filter(|p| **p != key) {
                diags.push(
                    Diagnostic::error(
                        "Invalid import provider",
                        format!(
                            "The import block says {p}, but {} uses {key}: they must be the same.",
                            b.to.resource
                        ),
                    )
                    .with_range(Some(b.range.clone())),
                );
                continue;
            }
            let p = self.provider(&key)?.clone();
            let value = match p.import(&b.to.resource.ty, &b.id).await {
                Ok(v) => v,
                Err(e) => {
                    diags.push(
                        Diagnostic::error(
                            format!("{}: import of {:?} failed", b.to, b.id),
                            e.message,
                        )
                        .with_range(Some(b.range.clone())),
                    );
                    continue;
                }
            };
            let schema = self.schema_for(&key, Mode::Managed, &b.to.resource.ty)?;
            let mut sensitive: std::collections::BTreeSet<String> =
                schema.sensitive_attrs().map(String::from).collect();
            StateInstance::derive_sensitive(&value, &mut sensitive);
            let si = StateInstance {
                addr: b.to.clone(),
                provider: key,
                value,
                sensitive,
                deps: self.dep_addrs(node),
                tainted: false,
            };
            self.state.insert(b.to.clone(), si.clone());
            out.push(Import {
                id: b.id.clone(),
                instance: si,
            });
        }
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(out)
    }
}
