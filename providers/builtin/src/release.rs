//! The `terrane` provider's `data "terrane_release"`: what `terrane deliver` recorded for an app
//! (the live colour, the live listener's weights, the task definition revision each colour
//! runs). `modules/app-delivery` reads its listeners, services and `IsProduction` tags from it,
//! so that after a release `terrane plan` reports no changes without any `ignore_changes`.
//!
//! This crate does not know how releases are stored: the binary hands the provider a
//! [`Reader`] over the current workspace's state.

use std::sync::Arc;

use async_trait::async_trait;
use terrane_core::{
    Attribute, PlanRequest, PlanResponse, Provider, ProviderError, ProviderFactory, ProviderSchema,
    ResourceSchema, Type, Value,
};

/// Reads an app's recorded delivery state (see `terrane-deliver`'s `Current::to_value`).
/// `Ok(None)`: nothing was delivered yet.
pub trait Reader: Send + Sync {
    fn release(&self, app: &str) -> Result<Option<Value>, String>;
}

pub fn schema() -> ResourceSchema {
    ResourceSchema::new()
        .attr("app", Attribute::required(Type::String))
        .attr("live", Attribute::computed(Type::String))
        .attr("test", Attribute::computed(Type::String))
        .attr("production", Attribute::computed(Type::String))
        .attr("weights", Attribute::computed(Type::map(Type::Number)))
        .attr(
            "task_definitions",
            Attribute::computed(Type::map(Type::String)),
        )
        .attr(
            "desired_counts",
            Attribute::computed(Type::map(Type::Number)),
        )
        .attr("release", Attribute::computed(Type::Number))
}

/// Before the first release: blue is live and takes all traffic, green is under test, and the
/// module's own task definitions run.
pub fn initial(app: &str) -> Value {
    Value::map([
        ("app", Value::from(app)),
        ("live", Value::from("blue")),
        ("test", Value::from("green")),
        ("production", Value::from("blue")),
        (
            "weights",
            Value::map([("blue", Value::from(100i64)), ("green", Value::from(0i64))]),
        ),
        (
            "task_definitions",
            Value::map([("blue", Value::from("")), ("green", Value::from(""))]),
        ),
        // -1: the module's own desired_count.
        (
            "desired_counts",
            Value::map([("blue", Value::from(-1i64)), ("green", Value::from(-1i64))]),
        ),
        ("release", Value::from(0i64)),
    ])
}

/// The `terrane` provider: Terrane's own data sources.
pub struct TerraneProvider {
    schema: ProviderSchema,
    reader: Option<Arc<dyn Reader>>,
}

impl TerraneProvider {
    pub fn factory_with(reader: Option<Arc<dyn Reader>>) -> ProviderFactory {
        Arc::new(move || {
            let mut schema = ProviderSchema::default();
            schema
                .data_sources
                .insert("terrane_release".into(), self::schema());
            Arc::new(TerraneProvider {
                schema,
                reader: reader.clone(),
            }) as Arc<dyn Provider>
        })
    }
}

#[async_trait]
impl Provider for TerraneProvider {
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn answers_in_process(&self) -> bool {
        true
    }

    async fn plan(&self, _req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        Err(ProviderError::new("the terrane provider has no resources"))
    }

    async fn apply(
        &self,
        _req: terrane_core::ApplyRequest<'_>,
    ) -> Result<Option<Value>, ProviderError> {
        Err(ProviderError::new("the terrane provider has no resources"))
    }

    async fn read(&self, _type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(Some(state.clone()))
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> Result<Value, ProviderError> {
        if type_name != "terrane_release" {
            return Err(ProviderError::new(format!(
                "unknown data source {type_name}"
            )));
        }
        let app = config
            .get("app")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::new("app is required"))?;
        let Some(reader) = &self.reader else {
            return Ok(initial(app));
        };
        match reader.release(app).map_err(ProviderError::new)? {
            Some(v) => Ok(v),
            None => Ok(initial(app)),
        }
    }
}
