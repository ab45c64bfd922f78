//! Engine tests: plan -> apply -> no-change plan -> update -> replace -> destroy, through the
//! session API with the in-tree test provider.

use std::path::Path;
use std::sync::Arc;

use terrane_core::{ProviderRegistry, Value};
use terrane_engine::events::{Event, RecordingSink};
use terrane_engine::render::{render_plan, Style};
use terrane_engine::{load_config, Action, Plan, PlanOptions, Session, SessionOptions};
use terrane_state::{StateStore, Store};

fn registry() -> ProviderRegistry {
    let mut r = ProviderRegistry::new();
    terrane_provider_builtin::register(&mut r);
    r.register(
        "test",
        terrane_provider_test::TestProvider::shared_factory(),
    );
    r
}

fn write(dir: &Path, main: &str) {
    std::fs::write(dir.join("main.tf"), main).unwrap();
}

fn session(dir: &Path, reg: &ProviderRegistry) -> Session {
    let (cfg, _) = load_config(dir).unwrap_or_else(|d| panic!("{d}"));
    Session::new(cfg, reg.clone(), SessionOptions::default()).unwrap_or_else(|d| panic!("{d}"))
}

async fn plan(
    dir: &Path,
    reg: &ProviderRegistry,
    store: &Store,
    opts: PlanOptions,
) -> (Session, Plan) {
    let mut s = session(dir, reg);
    s.load_state(store).unwrap();
    let p = s
        .plan(Some(store), &opts)
        .await
        .unwrap_or_else(|d| panic!("{d}"));
    (s, p)
}

async fn apply(
    dir: &Path,
    reg: &ProviderRegistry,
    store: &Store,
    opts: PlanOptions,
) -> (Plan, terrane_engine::ApplyOutcome, Arc<RecordingSink>) {
    let (mut s, p) = plan(dir, reg, store, opts).await;
    let sink = Arc::new(RecordingSink::default());
    let (_tx, rx) = tokio::sync::watch::channel(0u8);
    let out = s.apply(&p, store, 1, sink.clone(), rx).await;
    (p, out, sink)
}

fn refresh() -> PlanOptions {
    PlanOptions {
        refresh: true,
        ..Default::default()
    }
}

const V1: &str = r#"
variable "env" {
  type    = string
  default = "dev"
}
locals {
  prefix = "app-${var.env}"
}
resource "test_instance" "base" {
  name = "${local.prefix}-base"
  tags = { env = var.env }
}
resource "test_instance" "web" {
  count = 2
  name  = "${local.prefix}-web-${count.index}"
  value = test_instance.base.id
  rule {
    port = 80
  }
}
resource "terraform_data" "marker" {
  input = [for w in test_instance.web : w.id]
}
output "web_ids" {
  value = test_instance.web[*].id
}
"#;

#[tokio::test]
async fn full_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let reg = registry();
    write(dir.path(), V1);

    let (p, out, sink) = apply(dir.path(), &reg, &store, refresh()).await;
    assert_eq!(p.counts().add, 4, "{}", render_plan(&p, &Style::default()));
    assert!(out.ok(), "{:?}", out);
    assert_eq!(out.added, 4);
    // base finished before any web started (dependency order from recorded events).
    let ev = sink.events.lock().unwrap().clone();
    let pos = |pred: &dyn Fn(&Event) -> bool| ev.iter().position(|(_, e)| pred(e)).unwrap();
    let base_done =
        pos(&|e| matches!(e, Event::ApplyDone { addr, .. } if addr == "test_instance.base"));
    let web_start = pos(
        &|e| matches!(e, Event::ApplyStart { addr, .. } if addr.starts_with("test_instance.web")),
    );
    assert!(base_done < web_start);
    drop(ev);
    let recs = store.resources("default").unwrap();
    assert_eq!(recs.len(), 4);
    let outputs = store.outputs("default").unwrap();
    assert_eq!(outputs[0].value.as_array().unwrap().len(), 2);

    // No-change plan.
    let (_, p) = plan(dir.path(), &reg, &store, refresh()).await;
    assert!(!p.has_changes(), "{}", render_plan(&p, &Style::default()));

    // Update in place (tags) and replace (name forces replacement) of base -> web updates.
    write(
        dir.path(),
        &V1.replace("default = \"dev\"", "default = \"stg\""),
    );
    let (p, out, _) = apply(dir.path(), &reg, &store, refresh()).await;
    let base = p
        .changes
        .iter()
        .find(|c| c.addr.to_string() == "test_instance.base")
        .unwrap();
    assert_eq!(base.action, Action::Replace);
    assert_eq!(base.requires_replace, vec![vec!["name".to_string()]]);
    assert!(out.ok(), "{:?}", out);

    let (_, p) = plan(dir.path(), &reg, &store, refresh()).await;
    assert!(!p.has_changes(), "{}", render_plan(&p, &Style::default()));

    // Count shrinks: web[1] is deleted.
    write(dir.path(), &V1.replace("count = 2", "count = 1"));
    let (p, out, _) = apply(dir.path(), &reg, &store, refresh()).await;
    let del: Vec<String> = p
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.addr.to_string())
        .collect();
    assert_eq!(del, vec!["test_instance.web[1]"]);
    assert!(out.ok(), "{:?}", out);

    // Destroy: dependents first.
    let (p, out, sink) = apply(
        dir.path(),
        &reg,
        &store,
        PlanOptions {
            destroy: true,
            refresh: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(p.counts().destroy, 3);
    assert!(out.ok(), "{:?}", out);
    assert!(store.resources("default").unwrap().is_empty());
    let ev = sink.events.lock().unwrap().clone();
    let done: Vec<String> = ev
        .iter()
        .filter_map(|(_, e)| match e {
            Event::ApplyDone { addr, .. } => Some(addr.clone()),
            _ => None,
        })
        .collect();
    let ix = |a: &str| done.iter().position(|d| d == a).unwrap();
    assert!(ix("test_instance.web[0]") < ix("test_instance.base"));
    assert!(ix("terraform_data.marker") < ix("test_instance.web[0]"));
}

#[tokio::test]
async fn partial_failure_skips_dependents_and_taints() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let reg = registry();
    write(
        dir.path(),
        r#"
resource "test_instance" "bad" {
  name    = "bad"
  fail_on = "create_after"
}
resource "test_instance" "child" {
  value = test_instance.bad.id
}
resource "test_instance" "independent" {
  name = "ok"
}
"#,
    );
    let (_, out, _) = apply(dir.path(), &reg, &store, refresh()).await;
    assert_eq!(out.failed.len(), 1);
    assert_eq!(out.failed[0].0, "test_instance.bad");
    assert_eq!(out.skipped, vec!["test_instance.child".to_string()]);
    assert_eq!(out.added, 1);
    let recs = store.resources("default").unwrap();
    let bad = recs
        .iter()
        .find(|r| r.address == "test_instance.bad")
        .unwrap();
    assert!(bad.tainted);
    // Next plan replaces the tainted one.
    let (_, p) = plan(dir.path(), &reg, &store, refresh()).await;
    let c = p
        .changes
        .iter()
        .find(|c| c.addr.to_string() == "test_instance.bad")
        .unwrap();
    assert_eq!(c.action, Action::Replace);
    assert!(c.reason.as_deref().unwrap().contains("tainted"));
}

#[tokio::test]
async fn sensitive_values_are_masked_in_rendered_plans() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let reg = registry();
    write(
        dir.path(),
        r#"
variable "pw" {
  type      = string
  sensitive = true
  default   = "hunter2-secret"
}
resource "test_instance" "db" {
  secret = var.pw
  value  = "pw:${var.pw}"
}
"#,
    );
    let (_, p) = plan(dir.path(), &reg, &store, refresh()).await;
    let text = render_plan(&p, &Style::default());
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("(sensitive value)"));
}

#[tokio::test]
async fn drift_is_detected_and_corrected() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = dir.path().join("cloud");
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let reg = registry();
    write(
        dir.path(),
        &format!(
            r#"
provider "test" {{
  store = "{}"
}}
resource "test_instance" "a" {{
  tags = {{ team = "core" }}
}}
"#,
            cloud.display()
        ),
    );
    let (_, out, _) = apply(dir.path(), &reg, &store, refresh()).await;
    assert!(out.ok());
    // Change the tag out of band.
    let f = std::fs::read_dir(&cloud)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let t = std::fs::read_to_string(&f)
        .unwrap()
        .replace("\"core\"", "\"hacked\"");
    std::fs::write(&f, t).unwrap();
    let (_, p) = plan(dir.path(), &reg, &store, refresh()).await;
    assert_eq!(p.drift.len(), 1);
    assert_eq!(p.changes[0].action, Action::Update);
    let (_, out, _) = apply(dir.path(), &reg, &store, refresh()).await;
    assert!(out.ok());
    assert!(std::fs::read_to_string(&f).unwrap().contains("\"core\""));
    let (_, p) = plan(dir.path(), &reg, &store, refresh()).await;
    assert!(!p.has_changes());
    let _ = Value::Null;
}
