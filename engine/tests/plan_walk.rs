//! The plan walks the graph with the engine's walker: provider calls of independent resources
//! run at once, never more than `-parallelism` nor more than the provider's own limit, and a
//! resource is planned only after what it refers to.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use terrane_core::{
    ApplyRequest, Attribute, PlanRequest, PlanResponse, Provider, ProviderError, ProviderRegistry,
    ProviderSchema, ResourceSchema, Type, Value,
};
use terrane_engine::{load_config, PlanOptions, Session, SessionOptions};

/// Every plan call sleeps 20 ms and counts how many are in flight.
struct Slow {
    schema: ProviderSchema,
    limit: Option<usize>,
    now: AtomicUsize,
    most: AtomicUsize,
    order: Mutex<Vec<String>>,
}

#[async_trait]
impl Provider for Slow {
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn max_concurrency(&self) -> Option<usize> {
        self.limit
    }

    async fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(n, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let name = req
            .config
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        self.order.lock().unwrap().push(name);
        self.now.fetch_sub(1, Ordering::SeqCst);
        let schema = &self.schema.resources[req.type_name];
        let (planned, requires_replace) = schema.default_plan(req.prior, req.config);
        Ok(PlanResponse {
            planned,
            requires_replace,
            diagnostics: Vec::new(),
        })
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        Ok(req.planned.cloned())
    }

    async fn read(&self, _ty: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(Some(state.clone()))
    }
}

fn slow(limit: Option<usize>) -> Arc<Slow> {
    let mut schema = ProviderSchema::default();
    schema.resources.insert(
        "slow_thing".into(),
        ResourceSchema::new()
            .attr("name", Attribute::required(Type::String))
            .attr("after", Attribute::optional(Type::String)),
    );
    Arc::new(Slow {
        schema,
        limit,
        now: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
        order: Mutex::new(Vec::new()),
    })
}

/// 20 independent resources, and `last` that refers to all of them.
fn config() -> String {
    let mut s = String::new();
    for i in 0..20 {
        s.push_str(&format!(
            "resource \"slow_thing\" \"r{i}\" {{\n  name = \"r{i}\"\n}}\n"
        ));
    }
    let all: Vec<String> = (0..20).map(|i| format!("slow_thing.r{i}.name")).collect();
    s.push_str(&format!(
        "resource \"slow_thing\" \"last\" {{\n  name = \"last\"\n  after = join(\",\", [{}])\n}}\n",
        all.join(", ")
    ));
    s
}

async fn plan(provider: Arc<Slow>, parallelism: usize) -> usize {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), config()).unwrap();
    let (cfg, _) = load_config(dir.path()).unwrap();
    let mut reg = ProviderRegistry::new();
    let p = provider.clone();
    reg.register("slow", Arc::new(move || p.clone() as Arc<dyn Provider>));
    let mut s = Session::new(
        cfg,
        reg,
        SessionOptions {
            parallelism,
            ..Default::default()
        },
    )
    .unwrap();
    let plan = s.plan(None, &PlanOptions::default()).await.unwrap();
    assert_eq!(plan.changes.len(), 21);
    let order = provider.order.lock().unwrap();
    assert_eq!(order.len(), 21);
    assert_eq!(order.last().map(String::as_str), Some("last"), "{order:?}");
    provider.most.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_calls_run_in_parallel_within_parallelism() {
    let most = plan(slow(None), 4).await;
    assert_eq!(
        most, 4,
        "at most -parallelism plan calls at once, and that many"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_calls_keep_the_providers_own_limit() {
    let most = plan(slow(Some(2)), 10).await;
    assert_eq!(
        most, 2,
        "the provider's max_concurrency bounds its plan calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallelism_one_plans_one_at_a_time() {
    let most = plan(slow(None), 1).await;
    assert_eq!(most, 1);
}
