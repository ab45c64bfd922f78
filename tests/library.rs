//! Terrane driven as a library (the API of `examples/library`): the lock names its holder and
//! is released when dropped, every apply is recorded in history with its counts, events reach
//! the caller's sink, results are typed.

use std::sync::Arc;
use std::time::Duration;

use terrane_core::{ProviderRegistry, Value};
use terrane_engine::events::{Event, RecordingSink, CANCEL_NONE};
use terrane_engine::{load_config, Locked, PlanOptions, Run, RunOptions, RunResult, Workspace};

const MAIN: &str = r#"
variable "n" {
  type    = number
  default = 3
}
resource "terraform_data" "item" {
  count = var.n
  input = "item-${count.index}"
}
resource "terraform_data" "all" {
  input = [for i in terraform_data.item : i.output]
}
output "all" {
  value = terraform_data.all.output
}
"#;

fn registry() -> ProviderRegistry {
    let mut r = ProviderRegistry::new();
    terrane_provider_builtin::register(&mut r);
    r
}

/// A run of `MAIN` in `dir` with n = 2.
fn two_items<'l, 'w>(locked: &'l Locked<'w>, dir: &std::path::Path) -> Run<'l, 'w> {
    let (config, _) = load_config(dir).unwrap();
    locked
        .run(
            config,
            registry(),
            RunOptions {
                inputs: [("n".to_string(), Value::from(2.0))].into(),
                parallelism: 4,
            },
        )
        .unwrap()
}

#[tokio::test]
async fn a_program_plans_applies_and_destroys_through_the_library() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), MAIN).unwrap();
    let state = dir.path().join("state.db");
    let ws = Workspace::open(&state, "default").unwrap();

    let locked = ws.lock("my-tool apply", Duration::ZERO).unwrap();
    // While it is held, another holder is refused, and told who holds it.
    let other = Workspace::open(&state, "default").unwrap();
    let e = other.lock("my-tool plan", Duration::ZERO).err().unwrap();
    assert!(e.to_string().contains("`my-tool apply`"), "{e}");

    let mut run = two_items(&locked, dir.path());
    let plan = run.plan(&PlanOptions::default()).await.unwrap();
    assert_eq!(plan.counts().add, 3);
    let sink = Arc::new(RecordingSink::default());
    let (_tx, rx) = tokio::sync::watch::channel(CANCEL_NONE);
    let applied = run.apply(&plan, sink.clone(), rx).await.unwrap();
    assert_eq!(applied.result, RunResult::Ok);
    assert_eq!(applied.outcome.added, 3);
    let done = sink
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, e)| matches!(e, Event::ApplyDone { .. }))
        .count();
    assert_eq!(done, 3);
    let all = applied.outputs.iter().find(|o| o.name == "all").unwrap();
    assert_eq!(all.value, serde_json::json!(["item-0", "item-1"]));
    drop(run);
    drop(locked);

    // Released: the other holder gets it; nothing left to do.
    let locked = other.lock("my-tool plan", Duration::ZERO).unwrap();
    let mut run = two_items(&locked, dir.path());
    assert!(!run
        .plan(&PlanOptions::default())
        .await
        .unwrap()
        .has_changes());
    let destroy = run
        .plan(&PlanOptions {
            destroy: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(CANCEL_NONE);
    let applied = run
        .apply(&destroy, Arc::new(RecordingSink::default()), rx)
        .await
        .unwrap();
    assert_eq!(applied.outcome.destroyed, 3);
    drop(run);
    drop(locked);

    assert!(ws.instances().unwrap().is_empty());
    let h = ws.history().unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].command, "my-tool apply");
    assert_eq!((h[0].added, h[0].result.as_deref()), (3, Some("ok")));
    assert_eq!(h[1].command, "my-tool plan");
    assert_eq!(h[1].destroyed, 3);
    assert!(ws.lock_holder().unwrap().is_none());
}
