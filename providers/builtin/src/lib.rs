//! Built-in providers that need no cloud: `terraform` (the `terraform_data` resource, as in
//! Terraform 1.4+, and the `terraform_remote_state` data source) and `null` (`null_resource`
//! with `triggers` and `health_check` blocks).

pub mod health;
pub mod release;
pub mod remote;

use std::sync::Arc;

use async_trait::async_trait;
use terrane_core::{
    ApplyRequest, Attribute, Diagnostic, Nesting, PlanRequest, PlanResponse, Provider,
    ProviderError, ProviderFactory, ProviderSchema, ResourceSchema, Type, Value,
};

fn random_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut b);
    // Terraform uses a UUID for terraform_data and a decimal for null_resource; any unique id works.
    hex::encode(b)
}

/// The `terraform` provider: `terraform_data` and `terraform_remote_state`.
pub struct TerraformProvider {
    schema: ProviderSchema,
    /// What reads other workspaces' outputs (the binary's backends).
    remote: Option<Arc<dyn remote::Reader>>,
}

impl Default for TerraformProvider {
    fn default() -> Self {
        let mut schema = ProviderSchema::default();
        schema
            .data_sources
            .insert("terraform_remote_state".into(), remote::schema());
        schema.resources.insert(
            "terraform_data".into(),
            ResourceSchema::new()
                .attr("id", Attribute::computed(Type::String))
                .attr("input", Attribute::optional(Type::Any))
                .attr("output", Attribute::computed(Type::Any))
                .attr(
                    "triggers_replace",
                    Attribute::optional(Type::Any).force_new(),
                ),
        );
        TerraformProvider {
            schema,
            remote: None,
        }
    }
}

impl TerraformProvider {
    pub fn factory() -> ProviderFactory {
        Self::factory_with(None)
    }

    /// With a reader of other workspaces' state, for `terraform_remote_state`.
    pub fn factory_with(remote: Option<Arc<dyn remote::Reader>>) -> ProviderFactory {
        Arc::new(move || {
            Arc::new(TerraformProvider {
                remote: remote.clone(),
                ..Default::default()
            }) as Arc<dyn Provider>
        })
    }
}

#[async_trait]
impl Provider for TerraformProvider {
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn answers_in_process(&self) -> bool {
        true
    }

    /// `terraform_data` lives in state only.
    fn applies_in_process(&self) -> bool {
        true
    }

    async fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let schema = &self.schema.resources["terraform_data"];
        let (mut planned, requires_replace) = schema.default_plan(req.prior, req.config);
        // `output` mirrors `input`; it changes whenever input does.
        let input = req.config.get("input").cloned().unwrap_or(Value::Null);
        let prior_input = req.prior.and_then(|p| p.get("input")).cloned();
        if req.prior.is_none()
            || prior_input.as_ref() != Some(&input)
            || !requires_replace.is_empty()
        {
            if let Value::Map(m) = &mut planned {
                m.insert(
                    "output".into(),
                    if input.is_known() {
                        input
                    } else {
                        Value::Unknown
                    },
                );
            }
        }
        Ok(PlanResponse {
            planned,
            requires_replace,
            diagnostics: Vec::new(),
        })
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        let Some(planned) = req.planned else {
            return Ok(None);
        };
        let mut v = planned.clone();
        if let Value::Map(m) = &mut v {
            if m.get("id").is_none_or(Value::is_unknown) {
                m.insert("id".into(), Value::from(random_id()));
            }
            let input = m.get("input").cloned().unwrap_or(Value::Null);
            m.insert("output".into(), input);
        }
        Ok(Some(v))
    }

    async fn read(&self, _type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(Some(state.clone()))
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> Result<Value, ProviderError> {
        match type_name {
            "terraform_remote_state" => {
                remote::read(self.remote.as_ref(), config).map_err(ProviderError::new)
            }
            other => Err(ProviderError::new(format!("unknown data source {other}"))),
        }
    }

    async fn import(&self, _type_name: &str, id: &str) -> Result<Value, ProviderError> {
        Ok(Value::map([
            ("id", Value::from(id)),
            ("input", Value::Null),
            ("output", Value::Null),
            ("triggers_replace", Value::Null),
        ]))
    }
}

/// The `null` provider: `null_resource`.
pub struct NullProvider {
    schema: ProviderSchema,
    kinds: health::Kinds,
}

impl Default for NullProvider {
    fn default() -> Self {
        NullProvider::with_kinds(health::Kinds::builtin())
    }
}

impl NullProvider {
    /// A null provider whose `health_check` blocks can hold these kinds of check.
    pub fn with_kinds(kinds: health::Kinds) -> Self {
        let mut schema = ProviderSchema::default();
        schema.resources.insert(
            "null_resource".into(),
            ResourceSchema::new()
                .attr("id", Attribute::computed(Type::String))
                .attr(
                    "triggers",
                    Attribute::optional(Type::map(Type::String)).force_new(),
                )
                .attr("health", Attribute::computed(health::result_type()))
                .block("health_check", Nesting::List, health::block_schema(&kinds)),
        );
        NullProvider { schema, kinds }
    }

    pub fn factory() -> ProviderFactory {
        NullProvider::factory_with(health::Kinds::builtin())
    }

    pub fn factory_with(kinds: health::Kinds) -> ProviderFactory {
        Arc::new(move || Arc::new(NullProvider::with_kinds(kinds.clone())) as Arc<dyn Provider>)
    }
}

#[async_trait]
impl Provider for NullProvider {
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    /// Health checks wait, but only in `apply`: plan and read are in process.
    fn answers_in_process(&self) -> bool {
        true
    }

    fn validate(&self, _type_name: &str, config: &Value) -> Vec<Diagnostic> {
        checks(config, &self.kinds)
            .err()
            .map(|e| {
                vec![Diagnostic::error("Invalid health_check", e).for_attribute("health_check")]
            })
            .unwrap_or_default()
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        let Some(planned) = req.planned else {
            return Ok(None);
        };
        let mut v = planned.clone();
        let created = req.prior.is_none();
        if let Value::Map(m) = &mut v {
            if m.get("id").is_none_or(Value::is_unknown) {
                m.insert("id".into(), Value::from(random_id()));
            }
            if !created {
                return Ok(Some(v));
            }
            // Created (or replaced because a trigger changed): the gate opens only when every
            // check has passed. A failed gate is recorded tainted, so dependents wait and the
            // next apply checks again.
            let checks = checks(planned, &self.kinds).map_err(ProviderError::new)?;
            let (reports, failure) = match health::run_all(&checks, req.progress).await {
                Ok(r) => (r, None),
                Err((r, msg)) => (r, Some(msg)),
            };
            m.insert(
                "health".into(),
                Value::List(reports.iter().map(health::Report::to_value).collect()),
            );
            if let Some(msg) = failure {
                let mut e = ProviderError::new(msg);
                e.partial_state = Some(v);
                return Err(e);
            }
        }
        Ok(Some(v))
    }

    async fn read(&self, _type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(Some(state.clone()))
    }

    async fn import(&self, _type_name: &str, id: &str) -> Result<Value, ProviderError> {
        Ok(Value::map([
            ("id", Value::from(id)),
            ("triggers", Value::Null),
            ("health", Value::List(vec![])),
            ("health_check", Value::List(vec![])),
        ]))
    }
}

/// The checks of a `null_resource` configuration, in order.
fn checks(config: &Value, kinds: &health::Kinds) -> Result<Vec<health::Check>, String> {
    match config.get("health_check") {
        Some(Value::List(blocks)) => blocks
            .iter()
            .filter(|b| b.is_known())
            .map(|b| health::parse(b, kinds))
            .collect(),
        _ => Ok(Vec::new()),
    }
}

/// Registers the built-in providers.
pub fn register(reg: &mut terrane_core::ProviderRegistry) {
    register_with(reg, health::Kinds::builtin());
}

/// Registers the built-in providers, with more kinds of health check (from other providers).
pub fn register_with(reg: &mut terrane_core::ProviderRegistry, kinds: health::Kinds) {
    register_full(reg, kinds, None);
}

/// Registers the built-in providers with more kinds of health check and a reader of other
/// workspaces' state (`terraform_remote_state`).
pub fn register_full(
    reg: &mut terrane_core::ProviderRegistry,
    kinds: health::Kinds,
    remote: Option<Arc<dyn remote::Reader>>,
) {
    reg.register("terraform", TerraformProvider::factory_with(remote));
    reg.register("null", NullProvider::factory_with(kinds));
}

/// Registers the `terrane` provider (`data "terrane_release"`), reading releases with `reader`.
pub fn register_releases(
    reg: &mut terrane_core::ProviderRegistry,
    reader: Option<Arc<dyn release::Reader>>,
) {
    reg.register("terrane", release::TerraneProvider::factory_with(reader));
}
