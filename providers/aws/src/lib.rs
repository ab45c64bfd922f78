//! The native AWS provider. Resource types and attribute names follow the hashicorp/aws
//! provider so that existing configurations port unchanged. One `endpoint_url` (or
//! `endpoints { ec2 = ... }`, or the SDK's `AWS_ENDPOINT_URL`) points every service at an
//! emulator, so the same code runs against real AWS and against moto in tests.
//!
//! Every resource type lives in its own file under `resources/` and implements
//! [`resources::AwsResource`]; this file adapts them to the engine's `Provider` trait.

#[macro_use]
mod error;
mod config;
mod delivery;
mod endpoint_names;
pub mod health;
mod reference;
mod resources;
mod signer;
mod tags;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use terrane_core::{
    ApplyRequest, Attribute, PlanRequest, PlanResponse, Provider, ProviderError, ProviderFactory,
    ProviderSchema, Type, Value,
};

pub use config::Clients;
use resources::Kind;
pub use signer::PluginSigner;

pub struct AwsProvider {
    schema: ProviderSchema,
    resources: BTreeMap<&'static str, Arc<Kind>>,
    data: BTreeMap<&'static str, Arc<resources::kind::DataKind>>,
    clients: OnceLock<Clients>,
}

impl AwsProvider {
    pub fn new() -> Self {
        let mut schema = ProviderSchema {
            provider: config::provider_schema(),
            ..Default::default()
        };
        reference::mark_provider(&mut schema.provider);
        let mut res = BTreeMap::new();
        for r in resources::all() {
            let mut s = r.schema();
            if r.taggable() {
                // `tags` as configured, `tags_all` with the provider's default_tags merged in.
                s = s
                    .attr("tags", Attribute::optional(Type::map(Type::String)))
                    .attr("tags_all", Attribute::computed(Type::map(Type::String)));
            }
            reference::mark_resource(r.name(), &mut s);
            schema.resources.insert(r.name().to_string(), s);
            res.insert(r.name(), r);
        }
        let mut data = BTreeMap::new();
        for d in resources::all_data() {
            let mut s = d.schema();
            reference::mark_data_source(d.name(), &mut s);
            schema.data_sources.insert(d.name().to_string(), s);
            data.insert(d.name(), d);
        }
        AwsProvider {
            schema,
            resources: res,
            data,
            clients: OnceLock::new(),
        }
    }

    pub fn factory() -> ProviderFactory {
        Arc::new(|| Arc::new(AwsProvider::new()) as Arc<dyn Provider>)
    }

    fn clients(&self) -> Result<&Clients, ProviderError> {
        self.clients
            .get()
            .ok_or_else(|| ProviderError::new("the aws provider was used before it was configured"))
    }

    fn resource(&self, ty: &str) -> Result<&Arc<Kind>, ProviderError> {
        self.resources.get(ty).ok_or_else(|| {
            ProviderError::new(format!("the aws provider has no resource type {ty}"))
        })
    }
}

impl Default for AwsProvider {
    fn default() -> Self {
        Self::new()
    }
}

/// Every attribute of the schema present (null when AWS has nothing for it), so that state read
/// back compares equal to a plan made from the same schema.
fn complete(schema: &terrane_core::ResourceSchema, v: Value) -> Value {
    let Value::Map(mut m) = v else { return v };
    for k in schema.attributes.keys() {
        m.entry(k.clone()).or_insert(Value::Null);
    }
    for (k, b) in &schema.blocks {
        m.entry(k.clone()).or_insert(match b.nesting {
            terrane_core::Nesting::Single => Value::Null,
            _ => Value::List(Vec::new()),
        });
    }
    Value::Map(m)
}

/// `timeouts` is configuration only: carried from the plan (or prior state) into the new state.
fn keep_timeouts(mut v: Value, from: Option<&Value>) -> Value {
    if let (Value::Map(m), Some(t)) = (&mut v, from.and_then(|f| f.get("timeouts"))) {
        if m.contains_key("timeouts") {
            m.insert("timeouts".into(), t.clone());
        }
    }
    v
}

fn id_of(v: &Value) -> String {
    v.get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[async_trait]
impl Provider for AwsProvider {
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn deletion_rules(&self) -> Vec<terrane_core::DeletionRule> {
        resources::order::deletion_rules(self.resources.values())
    }

    fn discovers(&self) -> bool {
        true
    }

    async fn account(&self) -> Result<Option<String>, ProviderError> {
        let out = self
            .clients()?
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| error::sdk("GetCallerIdentity", e).into_provider_error())?;
        Ok(out.account)
    }

    fn usage(&self) -> Option<terrane_core::Usage> {
        self.clients.get().map(|c| c.counters.usage())
    }

    fn delivery(&self) -> Option<&dyn terrane_core::delivery::Delivery> {
        self.clients
            .get()
            .map(|c| c as &dyn terrane_core::delivery::Delivery)
    }

    async fn discover(
        &self,
        filter: &terrane_core::DiscoverFilter,
    ) -> Result<Vec<terrane_core::DiscoveredObject>, ProviderError> {
        resources::discover::discover(self.clients()?, &self.resources, filter)
            .await
            .map_err(|e| e.into_provider_error())
    }

    async fn configure(&self, config: &Value) -> Result<(), ProviderError> {
        let clients = Clients::from_config(config).await?;
        let _ = self.clients.set(clients);
        Ok(())
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<terrane_core::Diagnostic> {
        match self.resources.get(type_name) {
            Some(r) => {
                let mut diags = resources::lifecycle::validate_timeouts(config);
                diags.extend(r.validate(config));
                diags
            }
            None => Vec::new(),
        }
    }

    async fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let r = self.resource(req.type_name)?;
        let schema = &self.schema.resources[req.type_name];
        let (mut planned, mut requires_replace) = schema.default_plan(req.prior, req.config);
        r.adjust_plan(resources::kind::Planning {
            prior: req.prior,
            config: req.config,
            planned: &mut planned,
            requires_replace: &mut requires_replace,
        });
        if r.taggable() {
            let defaults = self
                .clients
                .get()
                .map(|c| c.default_tags.clone())
                .unwrap_or_default();
            tags::plan_tags_all(&defaults, &mut planned);
        }
        Ok(PlanResponse {
            planned,
            requires_replace,
            diagnostics: Vec::new(),
        })
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        let r = self.resource(req.type_name)?;
        let cx = self.clients()?;
        let res = error::counting(cx.counters.clone(), async {
            match (req.prior, req.planned) {
                (None, Some(planned)) => r.create(cx, planned, req.token).await.map(Some),
                (Some(prior), Some(planned)) => Kind::update(r, cx, prior, planned).await.map(Some),
                (Some(prior), None) => r.delete(cx, prior).await.map(|_| None),
                (None, None) => Ok(None),
            }
        })
        .await;
        let schema = &self.schema.resources[req.type_name];
        res.map(|o| o.map(|v| keep_timeouts(complete(schema, v), req.planned)))
            .map_err(|e| e.into_provider_error())
    }

    async fn read(&self, type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        let r = self.resource(type_name)?;
        let schema = &self.schema.resources[type_name];
        r.read(self.clients()?, &id_of(state), state)
            .await
            .map(|o| o.map(|v| keep_timeouts(complete(schema, v), Some(state))))
            .map_err(|e| e.into_provider_error())
    }

    fn read_batch(&self, type_name: &str) -> Option<usize> {
        self.resources.get(type_name)?.read_batch()
    }

    async fn read_many(
        &self,
        type_name: &str,
        states: &[&Value],
    ) -> Result<Vec<Option<Value>>, ProviderError> {
        let r = self.resource(type_name)?;
        let schema = &self.schema.resources[type_name];
        let cx = self.clients()?;
        // A batch may use a call that the credentials are not allowed where one read per
        // object is (a listing, GetAccountAuthorizationDetails): then read one by one.
        let found = match r.read_many(cx, states).await {
            Err(e) if e.is_access_denied() => {
                tracing::debug!(type_name, error = %e, "batched read denied; reading one by one");
                resources::lifecycle::read_one_by_one(&**r.as_ref(), cx, states).await
            }
            other => other,
        }
        .map_err(|e| e.into_provider_error())?;
        Ok(found
            .into_iter()
            .zip(states)
            .map(|(o, s)| o.map(|v| keep_timeouts(complete(schema, v), Some(s))))
            .collect())
    }

    async fn import(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        let r = self.resource(type_name)?;
        match r
            .read(self.clients()?, id, &Value::Null)
            .await
            .map_err(|e| e.into_provider_error())?
        {
            Some(v) => Ok(complete(&self.schema.resources[type_name], v)),
            None => Err(ProviderError::new(format!(
                "Cannot import non-existent remote object: {type_name} {id:?} was not found"
            ))),
        }
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> Result<Value, ProviderError> {
        let d = self.data.get(type_name).ok_or_else(|| {
            ProviderError::new(format!("the aws provider has no data source {type_name}"))
        })?;
        d.read(self.clients()?, config)
            .await
            .map_err(|e| e.into_provider_error())
    }

    async fn recover(
        &self,
        type_name: &str,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>, ProviderError> {
        let r = self.resource(type_name)?;
        r.find_by_token(self.clients()?, token, planned)
            .await
            .map_err(|e| e.into_provider_error())
    }
}

/// Registers the provider under the name `aws`.
pub fn register(reg: &mut terrane_core::ProviderRegistry) {
    reg.register("aws", AwsProvider::factory());
}
