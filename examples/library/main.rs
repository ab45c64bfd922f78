//! Driving Terrane from a Rust program: the same runs as `terrane plan/apply/destroy`, through
//! the engine's library API (lock, state, history and events included), with no CLI.
//!
//!     cargo run --example library -- examples/quickstart /tmp/quickstart.db
//!
//! It plans and applies the module, prints each finished step as it happens and the outputs,
//! shows that a second plan has nothing to do, then destroys everything.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use terrane_core::{ProviderRegistry, Value};
use terrane_engine::events::{Event, EventSink, CANCEL_NONE};
use terrane_engine::{load_config, PlanOptions, RunOptions, Workspace};

/// Prints what finished, as it finishes.
struct Print;

impl EventSink for Print {
    fn event(&self, e: &Event) {
        if let Event::ApplyDone { addr, action, .. } = e {
            println!("  {addr}: {} done", action.as_str());
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "examples/quickstart".into()));
    let state = PathBuf::from(args.next().unwrap_or_else(|| "library-example.db".into()));
    let mut registry = ProviderRegistry::new();
    terrane_provider_builtin::register(&mut registry);

    let ws = Workspace::open(&state, "default")?;
    for (what, opts) in [
        ("apply", PlanOptions::default()),
        ("re-plan", PlanOptions::default()),
        (
            "destroy",
            PlanOptions {
                destroy: true,
                ..Default::default()
            },
        ),
    ] {
        let locked = ws.lock(&format!("library example: {what}"), Duration::from_secs(30))?;
        let (config, _warnings) = load_config(&dir)?;
        let mut run = locked.run(config, registry.clone(), RunOptions::default())?;
        let plan = run.plan(&opts).await?;
        let n = plan.counts();
        println!(
            "{what}: {} to add, {} to change, {} to destroy",
            n.add, n.change, n.destroy
        );
        if !plan.has_changes() {
            continue;
        }
        let (_cancel, rx) = tokio::sync::watch::channel(CANCEL_NONE);
        let applied = run.apply(&plan, Arc::new(Print), rx).await?;
        if !applied.outcome.ok() {
            return Err(applied.outcome.diags.to_string().into());
        }
        for o in &applied.outputs {
            let v = Value::from_json(&o.value);
            println!("  output {} = {v}", o.name);
        }
    }
    for r in ws.history()? {
        println!(
            "history #{}: {} {}",
            r.id,
            r.command,
            r.result.unwrap_or_default()
        );
    }
    Ok(())
}
