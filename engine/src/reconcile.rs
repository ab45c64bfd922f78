//! Reconciling what a killed run left in flight: every mutating call is recorded as an intent
//! before it starts (see `apply/record.rs`); the next run finds an interrupted create's object
//! by its token and records it, so nothing is orphaned.

use terrane_core::{Diagnostic, Diagnostics, InstanceAddr, Value};
use terrane_state::StateStore;

use crate::session::{state_err, Session, StateInstance};

impl Session {
    /// Resolves steps that a killed run left in flight (recorded as intents): an object whose
    /// creation was interrupted is looked up by its token and recorded, so nothing is orphaned.
    pub async fn reconcile_intents(
        &mut self,
        store: &dyn StateStore,
    ) -> Result<Vec<Diagnostic>, Diagnostics> {
        let ws = self.opts.workspace.clone();
        let intents = store.intents(&ws).map_err(|e| {
            Diagnostics::from(Diagnostic::error("Failed to read state", e.to_string()))
        })?;
        if intents.is_empty() {
            return Ok(Vec::new());
        }
        self.configure_providers().await?;
        let mut notes = Vec::new();
        for it in intents {
            let addr = match InstanceAddr::parse(&it.address) {
                Ok(a) => a,
                Err(e) => return Err(Diagnostic::error("Corrupt state", e.to_string()).into()),
            };
            let body = crate::intent::IntentBody::from_json(&it.planned);
            let provider_key = body.provider.clone();
            let what = format!(
                "A previous run (run {}, started {}) was interrupted while it was {} {addr}",
                it.run_id,
                it.started_at,
                gerund(&it.op)
            );
            let msg = match it.op.as_str() {
                "create" => {
                    let key = provider_key.unwrap_or_else(|| {
                        crate::config::provider_key(
                            crate::config::implied_provider(&addr.resource.ty),
                            None,
                        )
                    });
                    let p = self.provider(&key).map_err(Diagnostics::from)?.clone();
                    let planned = Value::from_json(&body.planned);
                    match p.recover(&addr.resource.ty, &it.token, &planned).await {
                        Ok(Some(v)) => {
                            let si = StateInstance {
                                addr: addr.clone(),
                                provider: key,
                                value: v,
                                sensitive: body.sensitive.iter().cloned().collect(),
                                deps: body.deps.clone(),
                                tainted: false,
                            };
                            store
                                .complete_step(&ws, &it.address, Some(&si.to_record()))
                                .map_err(state_err)?;
                            self.state.insert(addr.clone(), si);
                            format!("{what}. The object it created was found (token {}) and is now recorded in state.", it.token)
                        }
                        Ok(None) => {
                            store.clear_intent(&ws, &it.address).map_err(state_err)?;
                            format!("{what}. No object was created (token {}); it will be planned again.", it.token)
                        }
                        Err(e) => {
                            return Err(Diagnostic::error(
                                format!("Failed to reconcile interrupted create of {addr}"),
                                e.message,
                            )
                            .into())
                        }
                    }
                }
                _ => {
                    // Updates and deletes: the refresh that follows reads the object's real state.
                    store.clear_intent(&ws, &it.address).map_err(state_err)?;
                    format!("{what}. Its current state will be read back by refresh.")
                }
            };
            notes.push(
                Diagnostic::warning("Reconciled an interrupted run", msg).with_address(&addr),
            );
        }
        Ok(notes)
    }
}

fn gerund(op: &str) -> &str {
    match op {
        "create" => "creating",
        "update" => "updating",
        "delete" => "deleting",
        other => other,
    }
}
