//! `terrane import`: an existing object enters state at a declared address.

use terrane_core::{Diagnostic, Diagnostics, InstanceAddr, Mode};
use terrane_state::StateStore;

use crate::graph::NodeKind;
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
}
