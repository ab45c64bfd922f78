//! `terrane import` and `import` blocks: an existing object enters state at a declared
//! address (the command at once; a block when the plan that reads it is applied).

use terrane_core::{Diagnostic, Diagnostics, InstanceAddr, Mode, Value};
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

    /// The targets of `import` blocks whose resource the configuration does not declare
    /// (what `plan -generate-config-out` writes configuration for).
    pub fn missing_import_targets(&self) -> Vec<InstanceAddr> {
        self.imports
            .iter()
            .filter(|b| {
                !self.state.contains_key(&b.to)
                    && self
                        .graph
                        .id(&NodeKey::Resource(b.to.resource.clone()))
                        .is_none()
            })
            .map(|b| b.to.clone())
            .collect()
    }

    /// Configuration for the objects the `import` blocks of `targets` name, read from their
    /// providers: each configurable attribute that has a value, nested blocks as blocks, in
    /// Terraform's layout. The resources must be declared (a placeholder block will do).
    pub async fn generate_import_config(
        &mut self,
        targets: &[InstanceAddr],
    ) -> Result<String, Diagnostics> {
        self.configure_providers().await?;
        let imports = self.plan_import_blocks().await?;
        let mut out = String::from("# __generated__ by Terrane\n# Please review these resources and move them into your main configuration files.\n");
        for target in targets {
            let Some(i) = imports.iter().find(|i| &i.instance.addr == target) else {
                continue;
            };
            let ty = &target.resource.ty;
            let schema = self.schema_for(&i.instance.provider, Mode::Managed, ty)?;
            out.push_str(&format!(
                "\n# __generated__ by Terrane from {:?}\nresource {:?} {:?} {{\n",
                i.id,
                ty.as_ref(),
                target.resource.name.as_ref()
            ));
            generated_body(&i.instance.value, schema, &i.instance.sensitive, &mut out);
            out.push_str("}\n");
        }
        Ok(crate::fmt::format(&out))
    }
}

/// The configurable attributes of `value` as arguments, its nested blocks as blocks.
fn generated_body(
    value: &Value,
    schema: &terrane_core::ResourceSchema,
    sensitive: &std::collections::BTreeSet<String>,
    out: &mut String,
) {
    let Value::Map(m) = value else { return };
    for (name, attr) in &schema.attributes {
        if !(attr.required || attr.optional) {
            continue;
        }
        match m.get(name) {
            None | Some(Value::Null) | Some(Value::Unknown) => {
                if attr.required {
                    out.push_str(&format!("{name} = null # required: set it\n"));
                }
            }
            Some(_) if sensitive.contains(name) => {
                out.push_str(&format!("{name} = null # sensitive: set it\n"));
            }
            Some(v) => {
                out.push_str(name);
                out.push_str(" = ");
                out.push_str(&crate::eval::hcl_literal(v));
                out.push('\n');
            }
        }
    }
    for (name, bs) in &schema.blocks {
        let items: Vec<&Value> = match m.get(name) {
            Some(Value::List(l)) => l.iter().collect(),
            Some(v @ Value::Map(_)) => vec![v],
            _ => Vec::new(),
        };
        for item in items {
            out.push_str(&format!("{name} {{\n"));
            generated_body(item, &bs.schema, &Default::default(), out);
            out.push_str("}\n");
        }
    }
}
