//! Refresh in batches: where a provider reads many objects of a type in one call, a plan's
//! refresh of N objects makes about N / batch calls, and reads one at a time where it does not.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use terrane_core::{
    ApplyRequest, Attribute, Provider, ProviderError, ProviderRegistry, ProviderSchema,
    ResourceSchema, Type, Value,
};
use terrane_engine::{load_config, Action, PlanOptions, Session, SessionOptions};
use terrane_state::Store;

/// Objects live in a map; `batchy_thing` reads up to 8 per call, `single_thing` one.
struct Batchy {
    schema: ProviderSchema,
    objects: Mutex<std::collections::BTreeMap<String, Value>>,
    reads: AtomicUsize,
    batch_reads: AtomicUsize,
    largest_batch: AtomicUsize,
}

#[async_trait]
impl Provider for Batchy {
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        let Some(planned) = req.planned else {
            return Ok(None);
        };
        let mut v = planned.clone();
        let name = v.get("name").and_then(Value::as_str).unwrap().to_string();
        if let Value::Map(m) = &mut v {
            m.insert("id".into(), Value::from(name.as_str()));
        }
        self.objects.lock().unwrap().insert(name, v.clone());
        Ok(Some(v))
    }

    async fn read(&self, _ty: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let id = state.get("id").and_then(Value::as_str).unwrap_or_default();
        Ok(self.objects.lock().unwrap().get(id).cloned())
    }

    fn read_batch(&self, ty: &str) -> Option<usize> {
        (ty == "batchy_thing").then_some(8)
    }

    async fn read_many(
        &self,
        _ty: &str,
        states: &[&Value],
    ) -> Result<Vec<Option<Value>>, ProviderError> {
        self.batch_reads.fetch_add(1, Ordering::SeqCst);
        self.largest_batch.fetch_max(states.len(), Ordering::SeqCst);
        let objects = self.objects.lock().unwrap();
        Ok(states
            .iter()
            .map(|s| {
                let id = s.get("id").and_then(Value::as_str).unwrap_or_default();
                objects.get(id).cloned()
            })
            .collect())
    }
}

fn provider() -> Arc<Batchy> {
    let mut schema = ProviderSchema::default();
    for ty in ["batchy_thing", "batchy_single"] {
        schema.resources.insert(
            ty.into(),
            ResourceSchema::new()
                .attr("id", Attribute::computed(Type::String))
                .attr("name", Attribute::required(Type::String)),
        );
    }
    Arc::new(Batchy {
        schema,
        objects: Mutex::new(Default::default()),
        reads: AtomicUsize::new(0),
        batch_reads: AtomicUsize::new(0),
        largest_batch: AtomicUsize::new(0),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_reads_in_batches_where_the_provider_offers_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut tf = String::new();
    for i in 0..20 {
        tf.push_str(&format!(
            "resource \"batchy_thing\" \"t{i}\" {{\n  name = \"t{i}\"\n}}\n"
        ));
    }
    for i in 0..3 {
        tf.push_str(&format!(
            "resource \"batchy_single\" \"s{i}\" {{\n  name = \"s{i}\"\n}}\n"
        ));
    }
    std::fs::write(dir.path().join("main.tf"), tf).unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let p = provider();
    let mut reg = ProviderRegistry::new();
    let shared = p.clone();
    reg.register(
        "batchy",
        Arc::new(move || shared.clone() as Arc<dyn Provider>),
    );
    let session = || {
        let (cfg, _) = load_config(dir.path()).unwrap();
        let mut s = Session::new(cfg, reg.clone(), SessionOptions::default()).unwrap();
        s.load_state(&store).unwrap();
        s
    };
    let opts = PlanOptions {
        refresh: true,
        ..Default::default()
    };
    let mut s = session();
    let plan = s.plan(Some(&store), &opts).await.unwrap();
    let sink = Arc::new(terrane_engine::events::RecordingSink::default());
    let (_tx, rx) = tokio::sync::watch::channel(0u8);
    s.apply(&plan, &store, 4, sink, rx).await;
    assert_eq!(p.objects.lock().unwrap().len(), 23);

    // One object of the batched type is gone outside Terrane.
    p.objects.lock().unwrap().remove("t7");
    p.reads.store(0, Ordering::SeqCst);
    let mut s = session();
    let plan = s.plan(Some(&store), &opts).await.unwrap();
    assert_eq!(
        p.batch_reads.load(Ordering::SeqCst),
        3,
        "20 objects in batches of at most 8"
    );
    assert_eq!(p.largest_batch.load(Ordering::SeqCst), 8);
    assert_eq!(
        p.reads.load(Ordering::SeqCst),
        3,
        "the type without batches is read one at a time"
    );
    let creates: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .map(|c| c.addr.to_string())
        .collect();
    assert_eq!(
        creates,
        ["batchy_thing.t7"],
        "the vanished object is created again"
    );
}
