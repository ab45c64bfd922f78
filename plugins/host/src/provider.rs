//! A plugin seen through the engine's [`Provider`] trait.

use std::sync::Arc;

use async_trait::async_trait;
use terrane_core::{
    ApplyRequest, Diagnostic, DiscoverFilter, DiscoveredObject, FoundBy, NameMatch, PlanRequest,
    PlanResponse, Provider, ProviderError, ProviderSchema, Reference, Value,
};

use crate::bindings::discoverable::wit as dwit;
use crate::bindings::wit;
use crate::convert::{self, value_in, value_out};
use crate::plugin::{Call, Plugin, Pool};

/// One provider configuration served by a plugin: a pool of sandboxed instances.
pub struct PluginProvider {
    pool: Arc<Pool>,
}

impl PluginProvider {
    pub fn new(plugin: Plugin) -> PluginProvider {
        PluginProvider {
            pool: Arc::new(Pool::new(plugin)),
        }
    }

    /// Runs a call that may use capabilities on a blocking thread (guest code and the host's
    /// I/O for it block), with the current runtime serving the I/O.
    async fn blocking<R: Send + 'static>(
        &self,
        name: &'static str,
        type_name: Option<String>,
        f: impl FnOnce(&Pool, Call<'_>) -> Result<R, ProviderError> + Send + 'static,
    ) -> Result<R, ProviderError> {
        let rt = tokio::runtime::Handle::current();
        let job = move |pool: &Pool, rt: &tokio::runtime::Handle| {
            let call = Call {
                name,
                type_name: type_name.as_deref(),
                rt: Some(rt),
            };
            f(pool, call)
        };
        match rt.runtime_flavor() {
            // On a multi-threaded runtime the worker hands its other tasks to another thread
            // and runs the call itself: cheaper than a trip to the blocking pool.
            tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| job(&self.pool, &rt))
            }
            _ => {
                let pool = self.pool.clone();
                tokio::task::spawn_blocking(move || job(&pool, &rt))
                    .await
                    .map_err(|e| ProviderError::new(format!("plugin call did not finish: {e}")))?
            }
        }
    }
}

fn decode(plugin: &Pool, what: &str, s: &str) -> Result<Value, ProviderError> {
    value_in(s, what)
        .map_err(|e| ProviderError::new(format!("plugin {:?} {e}", plugin.plugin.name())))
}

#[async_trait]
impl Provider for PluginProvider {
    fn schema(&self) -> &ProviderSchema {
        self.pool.plugin.schema()
    }

    fn max_concurrency(&self) -> Option<usize> {
        Some(self.pool.plugin.inner.limits.max_instances)
    }

    async fn configure(&self, config: &Value) -> Result<(), ProviderError> {
        self.pool.set_config(config.clone());
        // Start one instance now, so that a configuration error shows at once.
        let encoded = value_out(config);
        self.blocking("configure", None, move |pool, call| {
            pool.call(call, |b, s| {
                b.terrane_provider_provider().call_configure(s, &encoded)
            })?
            .map_err(convert::error_in)
        })
        .await
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<Diagnostic> {
        // Validation runs without capabilities and without a runtime for I/O.
        let call = Call {
            name: "validate",
            type_name: Some(type_name),
            rt: None,
        };
        let encoded = value_out(config);
        match self.pool.call(call, |b, s| {
            b.terrane_provider_provider()
                .call_validate(s, type_name, &encoded)
        }) {
            Ok(diags) => diags.into_iter().map(convert::diagnostic_in).collect(),
            Err(e) => vec![Diagnostic::error("Plugin failed", e.message)],
        }
    }

    async fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let r = wit::PlanRequest {
            type_name: req.type_name.to_string(),
            prior: req.prior.map(value_out),
            config: value_out(req.config),
        };
        self.blocking(
            "plan",
            Some(req.type_name.to_string()),
            move |pool, call| {
                let resp = pool
                    .call(call, |b, s| b.terrane_provider_provider().call_plan(s, &r))?
                    .map_err(convert::error_in)?;
                Ok(PlanResponse {
                    planned: decode(pool, "a planned value", &resp.planned)?,
                    requires_replace: resp.requires_replace,
                    diagnostics: resp
                        .diagnostics
                        .into_iter()
                        .map(convert::diagnostic_in)
                        .collect(),
                })
            },
        )
        .await
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        let r = wit::ApplyRequest {
            type_name: req.type_name.to_string(),
            prior: req.prior.map(value_out),
            planned: req.planned.map(value_out),
            config: value_out(req.config),
            token: req.token.to_string(),
        };
        self.blocking(
            "apply",
            Some(req.type_name.to_string()),
            move |pool, call| {
                let out = pool
                    .call(call, |b, s| b.terrane_provider_provider().call_apply(s, &r))?
                    .map_err(convert::error_in)?;
                out.map(|v| decode(pool, "a new state", &v)).transpose()
            },
        )
        .await
    }

    async fn read(&self, type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        let t = type_name.to_string();
        let st = value_out(state);
        self.blocking("read", Some(t.clone()), move |pool, call| {
            let out = pool
                .call(call, |b, s| {
                    b.terrane_provider_provider().call_read(s, &t, &st)
                })?
                .map_err(convert::error_in)?;
            out.map(|v| decode(pool, "a state", &v)).transpose()
        })
        .await
    }

    async fn import(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        let t = type_name.to_string();
        let id = id.to_string();
        self.blocking("import", Some(t.clone()), move |pool, call| {
            let out = pool
                .call(call, |b, s| {
                    b.terrane_provider_provider().call_import(s, &t, &id)
                })?
                .map_err(convert::error_in)?;
            decode(pool, "an imported state", &out)
        })
        .await
    }

    fn discovers(&self) -> bool {
        !self.pool.plugin.discoverable_types().is_empty()
    }

    async fn discover(
        &self,
        filter: &DiscoverFilter,
    ) -> Result<Vec<DiscoveredObject>, ProviderError> {
        if !self.discovers() {
            return Err(ProviderError::new(format!(
                "plugin {} cannot discover its objects (it was built for contract {}; discovery came in 0.1.1)",
                self.pool.plugin.inner.name, self.pool.plugin.inner.metadata.contract
            )));
        }
        let wf = dwit::DiscoverFilter {
            tags: filter.tags.clone().into_iter().collect(),
            name: filter.name.as_ref().map(|n| match n {
                NameMatch::Prefix(p) => dwit::NameMatch::Prefix(p.clone()),
                NameMatch::Regex(r) => dwit::NameMatch::Regex(r.as_str().to_string()),
            }),
            types: filter.types.iter().cloned().collect(),
        };
        self.blocking("discover", None, move |pool, call| {
            let found = pool
                .call(call, |b, s| match b.discovery() {
                    Some(d) => d.call_discover(s, &wf),
                    None => Ok(Ok(Vec::new())),
                })?
                .map_err(convert::error_in)?;
            found
                .into_iter()
                .map(|o| {
                    Ok(DiscoveredObject {
                        state: decode(pool, "a discovered object's state", &o.state)?,
                        type_name: o.type_name,
                        id: o.id,
                        aliases: o.aliases,
                        name: o.name,
                        tags: o.tags.into_iter().collect(),
                        created: o.created,
                        found_by: match o.found_by {
                            dwit::FoundBy::Tags => FoundBy::Tags,
                            dwit::FoundBy::Listing => FoundBy::Listing,
                        },
                        references: o
                            .references
                            .into_iter()
                            .map(|r| Reference::new(r.type_name, r.id))
                            .collect(),
                        is_default: o.is_default,
                    })
                })
                .collect()
        })
        .await
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> Result<Value, ProviderError> {
        let t = type_name.to_string();
        let cfg = value_out(config);
        self.blocking("read-data", Some(t.clone()), move |pool, call| {
            let out = pool
                .call(call, |b, s| {
                    b.terrane_provider_provider().call_read_data(s, &t, &cfg)
                })?
                .map_err(convert::error_in)?;
            decode(pool, "a data source result", &out)
        })
        .await
    }
}
